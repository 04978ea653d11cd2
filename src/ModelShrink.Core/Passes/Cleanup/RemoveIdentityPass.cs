using ModelShrink.Core.Passes.Types;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Cleanup;

/// <summary>
/// Removes nodes that pass their input through unchanged at inference: <c>Identity</c>,
/// <c>Dropout</c> whose mask output nobody reads (and that is not switched to training mode), and
/// <c>Cast</c> to the type its input already has (when that type is known). Readers are rewired
/// to the node's input.
/// <para>
/// When the node's output is a graph output, the output's name is part of the model's interface
/// and must not change: the node's input is renamed to the output's name instead, which is
/// possible when that input is computed by a node of the same graph and is not itself a graph
/// output. Otherwise (the input is a graph input, an initializer, another output, or a value of
/// an enclosing scope) the node stays.
/// </para>
/// </summary>
public sealed class RemoveIdentityPass : IPass
{
    /// <inheritdoc />
    public string Name => "remove-identity";

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        long removed = 0;
        foreach (var node in model.Graph.EnumerateNodes().ToArray())
        {
            context.Cancellation.ThrowIfCancellationRequested();
            if (PassThrough(node) is { } input && TryBypass(node, input, node.Outputs[0]!))
            {
                removed++;
            }
        }

        return PassResult.FromCounters(new Dictionary<string, long> { ["identities removed"] = removed });
    }

    /// <summary>The input that <paramref name="node"/> passes through unchanged, or null if it is not a no-op.</summary>
    internal static Value? PassThrough(Node node)
    {
        if (!GraphEdits.IsDefaultDomain(node) || node.Inputs.Count == 0 || node.Inputs[0] is not { } input
            || node.Outputs.Count == 0 || node.Outputs[0] is null)
        {
            return null;
        }

        switch (node.OpType)
        {
            case "Identity":
                return input;
            case "Dropout":
                var maskUnused = node.Outputs.Skip(1).All(o => o is null || (o.Uses.Count == 0 && !o.IsGraphOutput));
                var trainingMode = node.Inputs.Count > 2 ? node.Inputs[2] : null;
                return maskUnused && (trainingMode is null || IsConstantFalse(trainingMode)) ? input : null;
            case "Cast":
                var to = node.FindAttribute("to");
                return to is not null && ElementTypeInference.Of(input) is { } type && (long)type == to.Int ? input : null;
            default:
                return null;
        }
    }

    private static bool IsConstantFalse(Value value) =>
        value.ConstantTensor is { DataType: DataType.Bool, ElementCount: 1 } tensor && !tensor.ToArray<bool>()[0];

    private static bool TryBypass(Node node, Value input, Value output)
    {
        var graph = node.Graph;
        if (!output.IsGraphOutput)
        {
            output.ReplaceAllUsesWith(input);
            graph.RemoveNode(node);
            return true;
        }

        // The output's name is an interface name: the input takes it, when it can.
        var renamable = input.Graph == graph && input.Producer is not null && !input.IsGraphOutput && !input.IsGraphInput
            && input.Initializer is null;
        if (!renamable)
        {
            return false;
        }

        var name = output.Name;
        var type = output.Type;
        output.ReplaceAllUsesWith(input);
        graph.RemoveNode(node);
        graph.RenameValue(input, name);
        input.Type = type ?? input.Type;
        return true;
    }
}
