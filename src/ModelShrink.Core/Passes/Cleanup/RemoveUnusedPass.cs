using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Cleanup;

/// <summary>
/// Removes nodes whose outputs nobody reads (in the main graph and in every subgraph) and
/// initializers nobody reads.
/// <para>
/// Operators of the ONNX domains (<c>ai.onnx</c>, <c>ai.onnx.ml</c>) and ONNX Runtime's contrib
/// domain (<c>com.microsoft</c>) are pure functions of their inputs, so a node none of whose
/// outputs is read can go. A node of any other domain is a custom operator whose effects this
/// tool cannot know (it may log, count or write), so it is kept even when dead.
/// </para>
/// <para>
/// An initializer that is also listed as a graph input stays even when unread: the input is part
/// of the model's interface (a caller may feed it), and in a subgraph the inputs are the body's
/// signature.
/// </para>
/// </summary>
public sealed class RemoveUnusedPass : IPass
{
    /// <summary>The domains whose operators are known to be free of side effects.</summary>
    public static IReadOnlySet<string> PureDomains { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "", "ai.onnx", "ai.onnx.ml", "com.microsoft",
    };

    /// <inheritdoc />
    public string Name => "remove-unused";

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        long nodes = Sweep(model.Graph, context);
        long initializers = 0;
        foreach (var graph in model.Graph.EnumerateGraphs().ToArray())
        {
            foreach (var value in graph.Initializers.ToArray())
            {
                if (value.Uses.Count == 0 && !value.IsGraphOutput && !value.IsGraphInput)
                {
                    graph.RemoveInitializer(value);
                    initializers++;
                }
            }
        }

        return PassResult.FromCounters(new Dictionary<string, long>
        {
            ["nodes removed"] = nodes,
            ["initializers removed"] = initializers,
        });
    }

    // Last node first: readers come after what they read (a subgraph's outer reads count for the
    // node that owns it), so one backward sweep removes whole dead chains. Subgraphs are swept
    // before their owner is judged, since their dead nodes may be its only readers of outer values.
    private static long Sweep(Graph graph, PassContext context)
    {
        long removed = 0;
        for (var i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var node = graph.Nodes[i];
            foreach (var subgraph in node.Subgraphs)
            {
                removed += Sweep(subgraph, context);
            }

            if (node.Outputs.Count > 0 && PureDomains.Contains(node.Domain) && GraphEdits.OutputsUnused(node))
            {
                GraphEdits.RemoveNode(node);
                removed++;
            }
        }

        return removed;
    }
}
