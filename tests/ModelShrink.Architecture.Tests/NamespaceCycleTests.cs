using System.Reflection;
using NetArchTest.Rules;

namespace ModelShrink.Architecture.Tests;

/// <summary>
/// No circles between the engine's folders (each top-level folder of ModelShrink.Core is one
/// namespace and one concept): a circle means neither side can be understood or changed alone.
/// </summary>
[TestClass]
public sealed class NamespaceCycleTests
{
    [TestMethod]
    public void TheEnginesFoldersFormNoCircle() => AssertAcyclic(typeof(ModelShrink.Core.Compression.CompressionJob).Assembly, "ModelShrink.Core");

    [TestMethod]
    public void TheOnnxLibrarysFoldersFormNoCircle() => AssertAcyclic(typeof(ModelShrink.Onnx.Ir.Graph).Assembly, "ModelShrink.Onnx");

    private static void AssertAcyclic(Assembly assembly, string root)
    {
        var folders = assembly.GetTypes()
            .Select(t => t.Namespace ?? "")
            .Where(n => n.StartsWith(root + ".", StringComparison.Ordinal))
            .Select(n => n.Split('.')[2])
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToArray();
        var edges = new Dictionary<string, List<string>>();
        foreach (var from in folders)
        {
            edges[from] = folders.Where(to => to != from && DependsOn(assembly, $"{root}.{from}", $"{root}.{to}")).ToList();
        }

        var cycles = Cycles(edges);
        Assert.IsTrue(edges.Values.Sum(e => e.Count) > folders.Length, "the dependencies were found");
        Assert.IsEmpty(cycles, "circles between folders: " + string.Join("; ", cycles.Select(c => string.Join(" -> ", c))));
        Assert.IsGreaterThan(3, folders.Length, "the folders were found");
    }

    private static bool DependsOn(Assembly assembly, string from, string to) =>
        Types.InAssembly(assembly).That().ResideInNamespace(from).And().DoNotResideInNamespace(to)
            .ShouldNot().HaveDependencyOn(to).GetResult() is { IsSuccessful: false } result
        && result.FailingTypes.Any(t => t.Namespace == from || t.Namespace!.StartsWith(from + ".", StringComparison.Ordinal));

    // Every pair of folders that reach each other, shown as the shortest way round.
    private static List<List<string>> Cycles(Dictionary<string, List<string>> edges)
    {
        var cycles = new List<List<string>>();
        foreach (var start in edges.Keys)
        {
            foreach (var next in edges[start].Where(n => string.CompareOrdinal(n, start) > 0))
            {
                if (Path(edges, next, start) is { } back)
                {
                    cycles.Add([start, .. back]);
                }
            }
        }

        return cycles;
    }

    private static List<string>? Path(Dictionary<string, List<string>> edges, string from, string to)
    {
        var previous = new Dictionary<string, string> { [from] = from };
        var queue = new Queue<string>([from]);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (node == to)
            {
                var path = new List<string> { to };
                for (var at = to; at != from; at = previous[at])
                {
                    path.Insert(0, previous[at]);
                }

                return path;
            }

            foreach (var next in edges[node].Where(n => !previous.ContainsKey(n)))
            {
                previous[next] = node;
                queue.Enqueue(next);
            }
        }

        return null;
    }
}
