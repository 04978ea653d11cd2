using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Quantization.Operators;

/// <summary>
/// LSTM, GRU and RNN: the input weights W [directions, gates*hidden, input] and recurrence weights
/// R [directions, gates*hidden, hidden], per-channel along axis 1 (one scale per gate row). Never
/// integer: ONNX has no integer recurrent operator (ONNX Runtime's DynamicQuantizeLSTM is a contrib
/// op, and there is none for GRU), so a request for the integer form gives weight-only; the bias B
/// stays float.
/// </summary>
public sealed class RecurrentQuantizer : IOperatorQuantizer
{
    /// <inheritdoc />
    public IReadOnlyList<string> OpTypes { get; } = ["LSTM", "GRU", "RNN"];

    /// <inheritdoc />
    public QuantForm PreferredForm => QuantForm.WeightOnly;

    /// <inheritdoc />
    public NodePlan? Plan(Node node, QuantizationRewriter rewriter)
    {
        var form = rewriter.FormFor(this) == QuantForm.Dequantize ? QuantForm.Dequantize : QuantForm.WeightOnly;
        var weights = new List<(int Input, WeightKey Key)>();
        foreach (var input in (int[])[1, 2])
        {
            if (rewriter.Weight(node, input, rank: 3) is { } weight)
            {
                weights.Add((input, new WeightKey(weight, rewriter.ChannelAxis(form, 1), false)));
            }
        }

        return weights.Count == 0 ? null : new NodePlan(node, this, form, weights);
    }

    /// <inheritdoc />
    public void Rewrite(NodePlan plan, QuantizationRewriter rewriter) => rewriter.ReadDequantizedWeights(plan);
}
