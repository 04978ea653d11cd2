using ModelShrink.Core.Passes.Types;
using System.Runtime.InteropServices;
using ModelShrink.Core.Calibration;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Fp16;

/// <summary>A node the range check keeps in float32, and the value that made it.</summary>
/// <param name="Node">The node's name.</param>
/// <param name="Value">The weight or activation float16 cannot hold.</param>
/// <param name="IsWeight">Whether <paramref name="Value"/> is a weight (else an activation measured on data).</param>
/// <param name="Error">The value's float16 error.</param>
public sealed record KeptNode(string Node, string Value, bool IsWeight, HalfError Error)
{
    /// <summary>One phrase for messages: <c>'node' (weight 'w' up to 9.79E+07)</c>.</summary>
    public string Describe() =>
        $"'{Node}' ({(IsWeight ? "weight" : "activation")} '{Value}' {(Error.Overflows ? $"up to {Error.MaxMagnitude:G3}" : $"{(Error.Relative * 100).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)}% error in float16")})";
}

/// <summary>
/// Finds the values float16 cannot hold (<see cref="HalfError"/> over the threshold: overflow, or
/// values deep in the subnormals) and the nodes that must stay float32 so that those values never
/// pass through float16: a weight's readers; an activation's producer and readers. Weights are
/// checked from their data; activations are measured on data, in one augmented run of the float
/// model (the calibration machinery: every float value an extra output, constant memory per value).
/// </summary>
public static class Fp16RangeCheck
{
    /// <summary>The float16 error of every float32 weight (initializers and Constant outputs, subgraphs included).</summary>
    public static Dictionary<Value, HalfError> WeightErrors(Model model)
    {
        var weights = model.Graph.EnumerateGraphs().SelectMany(g => g.Values)
            .Where(v => v.IsWeight && v.ConstantTensor is { DataType: DataType.Float })
            .Distinct()
            .ToList();
        var errors = new HalfError[weights.Count];
        Parallel.For(0, weights.Count, i =>
        {
            var error = new HalfError();
            error.Add(MemoryMarshal.Cast<byte, float>(weights[i].ConstantTensor!.GetRawData().Span));
            errors[i] = error;
        });
        return weights.Select((w, i) => (w, errors[i])).ToDictionary(p => p.w, p => p.Item2);
    }

    /// <summary>
    /// The float16 error of every float32 activation of the main graph (its float inputs included),
    /// measured over <paramref name="data"/> (any holdout layout), by name.
    /// </summary>
    public static Dictionary<string, HalfError> ActivationErrors(Model model, string data, string modelFile, CancellationToken cancellation = default)
    {
        var types = ElementTypeInference.Infer(model);
        var values = model.Graph.Values
            .Where(v => !v.IsWeight && (v.Producer is not null || v.IsGraphInput) && types.TryGetValue(v, out var t) && t == DataType.Float)
            .Select(v => v.Name)
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        var errors = values.ToDictionary(v => v, _ => new HalfError(), StringComparer.Ordinal);
        if (values.Length > 0)
        {
            AugmentedRun.ForEachBatch(model, values, data, modelFile, "Holdout", output => errors[output.Name].Add(output.Values), cancellation);
        }

        return errors;
    }

    /// <summary>
    /// The nodes to keep in float32 for the values whose error exceeds <paramref name="maxRelativeError"/>:
    /// readers of such weights, producers and readers of such activations (by name; Constants excluded).
    /// The first reason found is kept per node; weights first, worst value first.
    /// </summary>
    public static IReadOnlyList<KeptNode> NodesToKeep(Model model, IReadOnlyDictionary<Value, HalfError> weights,
        IReadOnlyDictionary<string, HalfError>? activations, double maxRelativeError)
    {
        var kept = new Dictionary<string, KeptNode>(StringComparer.Ordinal);
        void Keep(Node node, Value value, bool isWeight, HalfError error)
        {
            if (!node.IsConstant && node.Name.Length > 0)
            {
                kept.TryAdd(node.Name, new KeptNode(node.Name, value.Name, isWeight, error));
            }
        }

        foreach (var (weight, error) in weights.Where(w => w.Value.Relative > maxRelativeError).OrderByDescending(w => w.Value.Relative))
        {
            foreach (var use in weight.Uses)
            {
                Keep(use.Node, weight, true, error);
            }
        }

        if (activations is not null)
        {
            var byName = model.Graph.Values.ToDictionary(v => v.Name, StringComparer.Ordinal);
            foreach (var (name, error) in activations.Where(a => a.Value.Relative > maxRelativeError).OrderByDescending(a => a.Value.Relative))
            {
                if (!byName.TryGetValue(name, out var value))
                {
                    continue;
                }

                if (value.Producer is { } producer)
                {
                    Keep(producer, value, false, error);
                }

                foreach (var use in value.Uses)
                {
                    Keep(use.Node, value, false, error);
                }
            }
        }

        return kept.Values.ToList();
    }
}
