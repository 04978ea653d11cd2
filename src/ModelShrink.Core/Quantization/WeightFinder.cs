using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Quantization;

/// <summary>
/// Finds the weights a quantization pass may replace, wherever the exporter put them (initializer,
/// Constant node, outer scope), warning once per weight about those it must leave in float.
/// </summary>
public sealed class WeightFinder(QuantizerContext context)
{
    private readonly HashSet<Value> warned = [];

    /// <summary>How many weights were left in float with a warning.</summary>
    public int Skipped { get; private set; }

    /// <summary>
    /// The weight read by input <paramref name="input"/> of <paramref name="node"/> when it can be
    /// quantized: constant float32 data with <paramref name="rank"/> dimensions (any rank when null)
    /// that is not also a graph input (MSH2200: a caller may override it). Null otherwise, with a
    /// warning (MSH2200/MSH2201) where the user should know; a computed input is simply not a weight.
    /// </summary>
    public Value? Find(Node node, int input, int? rank = null)
    {
        if (input >= node.Inputs.Count || node.Inputs[input] is not { IsWeight: true } value)
        {
            return null;
        }

        if (value.IsGraphInput)
        {
            Warn(value, ErrorCodes.QuantWeightIsGraphInput,
                $"weight '{value.Name}' is also a graph input, so a caller may replace it at run time; it stays float32");
            return null;
        }

        var tensor = value.ConstantTensor;
        if (tensor is null || tensor.DataType != DataType.Float)
        {
            Warn(value, ErrorCodes.QuantWeightSkipped,
                $"weight '{value.Name}' of {node} is {tensor?.DataType.DisplayName() ?? "unknown"}; only float32 weights are quantized");
            return null;
        }

        if (rank is { } r && tensor.Dims.Count != r)
        {
            Warn(value, ErrorCodes.QuantWeightSkipped,
                $"weight '{value.Name}' of {node} has shape [{string.Join(",", tensor.Dims)}], not rank {r}; it stays float32");
            return null;
        }

        return value;
    }

    /// <summary>Warns, once per weight, that <paramref name="value"/> stays float.</summary>
    public void Warn(Value value, string code, string message)
    {
        lock (warned)
        {
            if (warned.Add(value))
            {
                context.Warn(code, message);
                Skipped++;
            }
        }
    }

    /// <summary>Removes a replaced weight (its initializer or Constant node) once nothing reads it.</summary>
    public static void RemoveIfUnused(Value weight)
    {
        if (weight.Uses.Count > 0 || weight.IsGraphOutput)
        {
            return;
        }

        if (weight.Initializer is not null)
        {
            weight.Graph.RemoveInitializer(weight);
        }
        else if (weight.Producer is { IsConstant: true } constant)
        {
            constant.Graph.RemoveNode(constant);
        }
    }
}
