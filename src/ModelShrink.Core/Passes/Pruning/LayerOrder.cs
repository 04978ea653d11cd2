using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Pruning;

/// <summary>
/// Which layers come first and last: a layer is first when no other layer lies upstream of it, and
/// last when none lies downstream, following the data through the graph (into and out of
/// subgraphs). A network with several heads has several last layers; Gather tables take no part.
/// </summary>
internal static class LayerOrder
{
    /// <summary>The layers that are first or last, with which they are.</summary>
    public static IReadOnlyDictionary<PrunableLayer, string> Ends(IReadOnlyList<PrunableLayer> layers)
    {
        var counted = layers.Where(l => l.Kind != LayerKind.Gather).ToList();
        var layerNodes = counted.SelectMany(l => l.Readers).ToHashSet();
        var holders = HoldersOfLayers(layerNodes);
        var ends = new Dictionary<PrunableLayer, string>();
        foreach (var layer in counted)
        {
            var first = layer.Readers.Any(r => !Reaches(r, layerNodes, holders, upstream: true));
            var last = layer.Readers.Any(r => !Reaches(r, layerNodes, holders, upstream: false));
            if (first || last)
            {
                ends[layer] = first && last ? "first and last" : first ? "first" : "last";
            }
        }

        return ends;
    }

    // Nodes that hold a layer inside their subgraphs (If, Loop, Scan), at any depth.
    private static HashSet<Node> HoldersOfLayers(HashSet<Node> layerNodes)
    {
        var holders = new HashSet<Node>();
        foreach (var node in layerNodes)
        {
            for (var owner = node.Graph.OwnerNode; owner is not null; owner = owner.Graph.OwnerNode)
            {
                holders.Add(owner);
            }
        }

        return holders;
    }

    // Whether another layer (or a node holding one) lies downstream (or upstream) of start.
    private static bool Reaches(Node start, HashSet<Node> layerNodes, HashSet<Node> holders, bool upstream)
    {
        var visited = new HashSet<Node> { start };
        var pending = new Stack<Value>(upstream ? DataInputs(start) : start.Outputs.OfType<Value>());
        var seenValues = new HashSet<Value>();
        while (pending.TryPop(out var value))
        {
            if (!seenValues.Add(value))
            {
                continue;
            }

            var next = upstream ? Producers(value) : Readers(value);
            foreach (var node in next)
            {
                if (!visited.Add(node))
                {
                    continue;
                }

                if (layerNodes.Contains(node) || (holders.Contains(node) && !IsAncestor(node, start)))
                {
                    return true;
                }

                foreach (var v in upstream ? DataInputs(node) : node.Outputs.OfType<Value>())
                {
                    pending.Push(v);
                }
            }
        }

        return false;
    }

    // Upstream: the node computing the value; for a subgraph's own inputs, the node that owns the subgraph.
    private static IEnumerable<Node> Producers(Value value)
    {
        if (value.Producer is { } producer)
        {
            yield return producer;
        }
        else if (value.IsGraphInput && value.Graph.OwnerNode is { } owner)
        {
            yield return owner;
        }
    }

    // Downstream: every reader; a subgraph output flows on through the node that owns the subgraph.
    private static IEnumerable<Node> Readers(Value value)
    {
        foreach (var use in value.Uses)
        {
            yield return use.Node;
        }

        if (value.IsGraphOutput && value.Graph.OwnerNode is { } owner)
        {
            yield return owner;
        }
    }

    private static IEnumerable<Value> DataInputs(Node node) => node.Inputs.OfType<Value>().Where(v => !v.IsWeight);

    private static bool IsAncestor(Node holder, Node node)
    {
        for (var owner = node.Graph.OwnerNode; owner is not null; owner = owner.Graph.OwnerNode)
        {
            if (owner == holder)
            {
                return true;
            }
        }

        return false;
    }
}
