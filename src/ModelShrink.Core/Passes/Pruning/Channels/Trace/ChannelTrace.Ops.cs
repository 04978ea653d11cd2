using ModelShrink.Core.Passes.Pruning.Channels.Layout;
using ModelShrink.Onnx.Ir;
using ModelShrink.Shared;
using static ModelShrink.Core.Passes.Pruning.Channels.NodeText;

namespace ModelShrink.Core.Passes.Pruning.Channels.Trace;

/// <summary>The rule each op the channels reach gets: the only place that knows op types by name.</summary>
internal sealed partial class ChannelTrace
{
    private static readonly IReadOnlySet<string> Unary = new HashSet<string>(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Celu", "Gelu", "Mish", "Softplus",
        "Softsign", "ThresholdedRelu", "Erf", "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Ceil", "Floor", "Round", "Sign",
        "Sin", "Cos", "Identity", "Cast",
    };

    private static readonly IReadOnlySet<string> Binary = new HashSet<string>(StringComparer.Ordinal)
    {
        "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "PRelu", "Sum", "Mean",
    };

    private static readonly IReadOnlySet<string> Pools = new HashSet<string>(StringComparer.Ordinal)
    {
        "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool",
    };

    private static readonly IReadOnlySet<string> LayoutChanges = new HashSet<string>(StringComparer.Ordinal)
    {
        "Transpose", "Gather", "GatherElements", "DepthToSpace", "SpaceToDepth", "Einsum",
    };

    // `node` reads the channels (held as `mapping` says) at input `slot`: follow them to its outputs, cut its
    // constants along them, or say why not.
    private ChannelBlock? Consume(Node node, int slot, Value value, ChannelMapping mapping)
    {
        var op = node.Domain is "" or "ai.onnx" ? node.OpType : $"{node.Domain}.{node.OpType}";
        if (Unary.Contains(op) || op == "Dropout")
        {
            return FollowAll(node, mapping);
        }

        if (op == "Clip")
        {
            return Clip(node, slot, mapping);
        }

        if (Binary.Contains(op))
        {
            return Elementwise(node, slot, value, mapping);
        }

        switch (op)
        {
            case "BatchNormalization" or "InstanceNormalization":
                return Normalization(node, slot, mapping);
            case var _ when Pools.Contains(op):
                return Pool(node, slot, mapping);
            case "Flatten":
                return Flatten(node, value, mapping);
            case "Concat":
                return Concat(node, slot, mapping);
            case "Conv":
                return Conv(node, slot, mapping);
            case "Resize" or "Upsample":
                return Resize(node, slot, mapping);
            case "Pad":
                return Pad(node, slot, mapping);
            case var _ when ChannelLayout.Ops.Contains(op):
                return Layout(node, slot, value, mapping);
            case "Gemm":
                return Gemm(node, slot, mapping);
            case "MatMul":
                return MatMul(node, slot, mapping);
            case "Attention" or "com.microsoft.Attention" or "com.microsoft.MultiHeadAttention" or "com.microsoft.GroupQueryAttention"
                or "com.microsoft.PackedAttention" or "com.microsoft.PackedMultiHeadAttention" or "com.microsoft.DecoderMaskedMultiHeadAttention":
                return new ChannelBlock(ErrorCodes.PruneChannelsReshaped,
                    $"{Describe(node)} is a fused attention op: its heads are not pruned (only MatMul-based attention is)");
            case var _ when LayoutChanges.Contains(op):
                return new ChannelBlock(ErrorCodes.PruneChannelsReshaped,
                    $"{Describe(node)} changes the layout of the channels before the next layer (e.g. attention heads)");
            default:
                return Unsupported($"{Describe(node)} is an op the channel pruning does not rewrite");
        }
    }
}
