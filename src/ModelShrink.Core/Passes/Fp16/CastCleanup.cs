using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Fp16;

/// <summary>How many redundant Casts <see cref="CastCleanup"/> removed, by kind.</summary>
internal readonly record struct CastCleanupResult(int Identity, int RoundTrips, int Duplicates)
{
    public int Total => Identity + RoundTrips + Duplicates;
}

/// <summary>
/// Removes the Casts that conversion leaves redundant: Casts to the type the value already has
/// (the model's own Casts to float32 become float16 -> float16), Cast pairs that go float32 ->
/// float16 -> float32 or back (readers take the value before the pair), and Casts of the same
/// value to the same type in one graph (readers share the first). A Cast whose output is one of the
/// model's outputs stays, since that name is the model's interface.
/// </summary>
internal static class CastCleanup
{
    public static CastCleanupResult Run(Model model, Func<Value, DataType?> currentType)
    {
        int identity = 0, roundTrips = 0, duplicates = 0;
        bool changed;
        do
        {
            changed = false;
            foreach (var graph in model.Graph.EnumerateGraphs().ToList())
            {
                var seen = new Dictionary<(Value, long), Value>();
                foreach (var node in graph.Nodes.ToList())
                {
                    if (!node.Is("Cast") || node.Inputs.Count != 1 || node.Inputs[0] is not { } input || node.Outputs[0] is not { } output)
                    {
                        continue;
                    }

                    var to = node.GetInt("to", 0);
                    if (currentType(input) is { } inputType && (long)inputType == to && TryBypass(node, input))
                    {
                        identity++;
                        changed = true;
                    }
                    else if (RoundTripSource(node, currentType) is { } source && TryBypass(node, source))
                    {
                        roundTrips++;
                        changed = true;
                        var inner = input.Producer!;
                        var innerKey = (inner.Inputs[0]!, inner.GetInt("to", 0));
                        if (RemoveIfUnused(inner) && seen.TryGetValue(innerKey, out var recorded) && recorded == input)
                        {
                            seen.Remove(innerKey);
                        }
                    }
                    else if (seen.TryGetValue((input, to), out var first))
                    {
                        if (TryBypass(node, first))
                        {
                            duplicates++;
                            changed = true;
                        }
                    }
                    else
                    {
                        seen[(input, to)] = output;
                    }
                }
            }
        }
        while (changed);

        return new CastCleanupResult(identity, roundTrips, duplicates);
    }

    /// <summary>
    /// For Cast(Cast(x)) where x already has the outer Cast's type and both Casts are between
    /// float32 and float16: x. Null otherwise.
    /// </summary>
    public static Value? RoundTripSource(Node cast, Func<Value, DataType?> currentType)
    {
        if (cast.Inputs[0]?.Producer is not { } inner || !inner.Is("Cast") || inner.Inputs.Count != 1 || inner.Inputs[0] is not { } source)
        {
            return null;
        }

        var to = (DataType)cast.GetInt("to", 0);
        var middle = (DataType)inner.GetInt("to", 0);
        return IsFloat16Or32(to) && IsFloat16Or32(middle) && currentType(source) == to ? source : null;
    }

    private static bool IsFloat16Or32(DataType type) => type is DataType.Float or DataType.Float16;

    // Readers of the Cast's output read 'replacement' instead, and the Cast goes.
    private static bool TryBypass(Node cast, Value replacement)
    {
        var output = cast.Outputs[0]!;
        if (output.IsGraphOutput && (cast.Graph.Parent is null || replacement.Graph != cast.Graph))
        {
            return false;
        }

        output.ReplaceAllUsesWith(replacement);
        cast.Graph.RemoveNode(cast);
        return true;
    }

    private static bool RemoveIfUnused(Node node)
    {
        if (node.Outputs.Any(o => o is not null && (o.Uses.Count > 0 || o.IsGraphOutput)))
        {
            return false;
        }

        node.Graph.RemoveNode(node);
        return true;
    }
}
