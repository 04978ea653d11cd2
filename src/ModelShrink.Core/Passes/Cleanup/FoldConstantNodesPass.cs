using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Cleanup;

/// <summary>
/// Turns <c>Constant</c> nodes (value, value_float(s), value_int(s), value_string(s)) into
/// initializers of the graph they are in, under the same name, and removes the nodes; a Constant
/// inside an If branch or a loop body becomes an initializer of that subgraph. Afterwards every
/// weight is an initializer, which is what quantizers look for (paddle2onnx exports keep all
/// weights in Constant nodes). A Constant holding a sparse tensor, and one whose output is itself
/// a graph output, are left alone.
/// </summary>
public sealed class FoldConstantNodesPass : IPass
{
    // Initializers that are not graph inputs need IR version 4 or later.
    private const long MinIrVersionForInitializers = 4;

    /// <inheritdoc />
    public string Name => "fold-constant-nodes";

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        long folded = 0;
        foreach (var graph in model.Graph.EnumerateGraphs().ToArray())
        {
            foreach (var node in graph.Nodes.Where(n => n.IsConstant).ToArray())
            {
                context.Cancellation.ThrowIfCancellationRequested();
                if (node.Outputs is not [{ IsGraphOutput: false } output] || node.ConstantValue() is not { } tensor)
                {
                    continue;
                }

                var name = output.Name;
                var initializer = graph.AddInitializer(tensor.WithName(graph.UniqueName(name + "_folded")));
                initializer.Type = output.Type;
                output.ReplaceAllUsesWith(initializer);
                graph.RemoveNode(node);
                graph.RenameValue(initializer, name);
                folded++;
            }
        }

        if (folded > 0 && model.IrVersion < MinIrVersionForInitializers)
        {
            model.IrVersion = MinIrVersionForInitializers;
        }

        return PassResult.FromCounters(new Dictionary<string, long> { ["constants folded"] = folded });
    }
}
