using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Cleanup;

/// <summary>Graph rewrites the clean-up passes share: removing nodes with subgraphs, replacing a node's outputs.</summary>
internal static class GraphEdits
{
    /// <summary>Whether the node belongs to the default ONNX domain.</summary>
    public static bool IsDefaultDomain(Node node) => node.Domain is "" or "ai.onnx";

    /// <summary>Whether nobody reads any output of <paramref name="node"/> (and none is a graph output).</summary>
    public static bool OutputsUnused(Node node) =>
        node.Outputs.All(o => o is null || (o.Uses.Count == 0 && !o.IsGraphOutput));

    /// <summary>
    /// Removes a node whose outputs nobody reads. Reads of outer values by nodes inside its
    /// subgraphs are dropped first, so those outer values stop counting them as uses.
    /// </summary>
    public static void RemoveNode(Node node)
    {
        foreach (var inner in node.Subgraphs.SelectMany(g => g.EnumerateNodes()).ToArray())
        {
            for (var i = 0; i < inner.Inputs.Count; i++)
            {
                if (inner.Inputs[i] is not null)
                {
                    inner.SetInput(i, null);
                }
            }
        }

        node.Graph.RemoveNode(node);
    }

    /// <summary>
    /// Replaces <paramref name="node"/> by values computed elsewhere (typically by new nodes placed
    /// before it): every reader of output i reads <paramref name="replacements"/>[i] instead, the
    /// node goes, and each replacement takes the old output's name and declared type, so graph
    /// outputs and value names stay what they were. A null replacement requires the old output unused.
    /// </summary>
    public static void ReplaceOutputs(Node node, IReadOnlyList<Value?> replacements)
    {
        var graph = node.Graph;
        var renames = new List<(Value Replacement, string Name, Onnx.Protobuf.TypeProto? Type)>();
        for (var i = 0; i < node.Outputs.Count; i++)
        {
            if (node.Outputs[i] is not { } old)
            {
                continue;
            }

            var replacement = i < replacements.Count ? replacements[i] : null;
            if (replacement is null)
            {
                if (old.Uses.Count > 0 || old.IsGraphOutput)
                {
                    throw new InvalidOperationException($"output '{old.Name}' of {node} is still read");
                }

                continue;
            }

            old.ReplaceAllUsesWith(replacement);
            renames.Add((replacement, old.Name, old.Type));
        }

        graph.RemoveNode(node);
        foreach (var (replacement, oldName, type) in renames)
        {
            graph.RenameValue(replacement, oldName);
            replacement.Type = type ?? replacement.Type;
        }
    }
}
