using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Pruning.Channels;

/// <summary>How the reasons a layer is left alone name a node: its op type and name, <c>Conv 'conv1'</c>.</summary>
internal static class NodeText
{
    /// <summary>The node as the reasons name it.</summary>
    public static string Describe(Node node) => $"{node.OpType} '{node.Name}'";
}
