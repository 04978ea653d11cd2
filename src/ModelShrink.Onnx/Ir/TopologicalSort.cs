using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Onnx.Ir;

/// <summary>
/// Stable topological order (Kahn's algorithm, always taking the earliest ready node), counting a
/// node's subgraph reads of outer values as dependencies of that node.
/// </summary>
internal static class TopologicalSort
{
    public static void Sort(Graph graph, List<Node> nodes)
    {
        var position = new Dictionary<Node, int>(nodes.Count);
        for (var i = 0; i < nodes.Count; i++)
        {
            position[nodes[i]] = i;
        }

        var pending = new int[nodes.Count];
        var dependents = new List<int>[nodes.Count];
        for (var i = 0; i < nodes.Count; i++)
        {
            dependents[i] = [];
        }

        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var producer in Dependencies(nodes[i], graph))
            {
                if (position.TryGetValue(producer, out var p) && p != i)
                {
                    pending[i]++;
                    dependents[p].Add(i);
                }
            }
        }

        var ready = new PriorityQueue<int, int>();
        for (var i = 0; i < nodes.Count; i++)
        {
            if (pending[i] == 0)
            {
                ready.Enqueue(i, i);
            }
        }

        var order = new List<Node>(nodes.Count);
        while (ready.TryDequeue(out var i, out _))
        {
            order.Add(nodes[i]);
            foreach (var d in dependents[i])
            {
                if (--pending[d] == 0)
                {
                    ready.Enqueue(d, d);
                }
            }
        }

        if (order.Count != nodes.Count)
        {
            var stuck = nodes.Where((_, i) => pending[i] > 0).First();
            throw ModelShrinkException.Error(ErrorCodes.InvalidGraph,
                $"graph '{graph.Name}' has a cycle through node '{stuck.Name}' ({stuck.OpType})");
        }

        nodes.Clear();
        nodes.AddRange(order);
    }

    // Producers in this graph of everything the node reads, directly or from inside its subgraphs.
    private static IEnumerable<Node> Dependencies(Node node, Graph graph)
    {
        var direct = node.Inputs.OfType<Value>();
        var implicitReads = node.Subgraphs.SelectMany(s => s.OuterScopeReads());
        return direct.Concat(implicitReads)
            .Where(v => v.Graph == graph && v.Producer is not null)
            .Select(v => v.Producer!);
    }
}
