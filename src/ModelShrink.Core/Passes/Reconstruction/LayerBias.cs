using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Reconstruction;

/// <summary>
/// The float bias a layer's output carries, one value per output channel, found where exporters put
/// it (Conv's B, Gemm's C, the constant operand of an Add after a MatMul or an integer chain), and
/// the zero bias a float Conv or Gemm without one can be given. Bias correction shifts it by the
/// mean the compression moved; channel pruning's refit folds the removed channels' mean into it.
/// </summary>
internal static class LayerBias
{
    // The float bias that feeds a layer's output, as a constant with one value per channel: the bias
    // input of a Conv/Gemm, the constant operand of the Add that ends an integer chain, or of the one Add
    // that reads a MatMul's output. Gemm's bias is scaled by beta, so its shift is divided by beta.
    public static Bias? Find(Value output, int channels, int rank, int axis)
    {
        var producer = output.Producer!;
        // Conv's B is 1-D [M] by definition; Gemm's C broadcasts to [M, N] like any Add operand.
        if (producer.OpType is "Conv" or "Gemm" && producer.Inputs.Count > 2
            && Usable(producer.Inputs[2], channels, producer.OpType == "Conv" ? 1 : rank, producer.OpType == "Conv" ? 0 : axis))
        {
            var beta = producer.OpType == "Gemm" ? producer.GetFloat("beta", 1f) : 1f;
            return beta == 0f ? null : new Bias(producer.Inputs[2]!, producer, 2, 1.0 / beta);
        }

        if (producer.OpType == "Add" && ConstantOperand(producer, output: null, channels, rank, axis) is { } own)
        {
            return own;
        }

        if (output.Uses is [{ Node: { OpType: "Add", Domain: "" or "ai.onnx" } add }] && !output.IsGraphOutput)
        {
            return ConstantOperand(add, output, channels, rank, axis);
        }

        return null;
    }

    // A Conv or Gemm computing in float32 without a bias (the form exporters leave before a batch norm)
    // can be given one: a 1-D bias along the channel axis, one value per output channel.
    public static bool CanAdd(Node producer, int rank, int axis) =>
        producer.Inputs.Count == 2 && producer.Inputs[0]?.ElementType is null or DataType.Float
        && ((producer.Is("Conv") && rank >= 3 && axis == 1)
            || (producer.Is("Gemm") && rank == 2 && axis == 1 && producer.GetFloat("beta", 1f) != 0f));

    private static Bias? ConstantOperand(Node add, Value? output, int channels, int rank, int axis)
    {
        for (var slot = 0; slot < 2 && slot < add.Inputs.Count; slot++)
        {
            if (add.Inputs[slot] is { } operand && operand != output && Usable(operand, channels, rank, axis))
            {
                return new Bias(operand, add, slot, 1.0);
            }
        }

        return null;
    }

    // An initializer (not a graph input) of float32 with one value per channel that, broadcast (numpy
    // rules: aligned on the right) against an output of rank `rank`, lies along the channel axis.
    private static bool Usable(Value? value, int channels, int rank, int axis)
    {
        if (value is not { Initializer: { DataType: DataType.Float } tensor, IsGraphInput: false } || tensor.ElementCount != channels
            || tensor.Dims.Count > rank)
        {
            return false;
        }

        var along = -1;
        for (var i = 0; i < tensor.Dims.Count; i++)
        {
            if (tensor.Dims[i] != 1)
            {
                if (along >= 0)
                {
                    return false;
                }

                along = rank - tensor.Dims.Count + i;
            }
        }

        return along == axis || (along < 0 && channels == 1);
    }

    /// <summary>Gives <paramref name="layer"/> (a Conv or Gemm that <see cref="CanAdd"/> says may take one) a zero bias of <paramref name="channels"/> values.</summary>
    public static void AddZero(Node layer, int channels) =>
        layer.AddInput(layer.Graph.AddInitializer(
            Tensor.FromArray<float>(layer.Graph.UniqueName((layer.Outputs[0]?.Name ?? layer.Name) + "_bias"), [channels], new float[channels])));
}

/// <summary>A layer's bias: <see cref="Value"/>, read as input <see cref="Slot"/> of <see cref="Reader"/>; a shift of the output moves it by shift × <see cref="Factor"/> (1/beta for Gemm).</summary>
internal sealed record Bias(Value Value, Node Reader, int Slot, double Factor)
{
    /// <summary>Adds <paramref name="shift"/>(c) to the layer's output in channel c; a bias shared with other readers gets a copy of its own for this one.</summary>
    public void Shift(Func<int, double> shift)
    {
        var values = Value.Initializer!.ToArray<float>();
        for (var c = 0; c < values.Length; c++)
        {
            values[c] += (float)(shift(c) * Factor);
        }

        if (Value.Uses.Count > 1)
        {
            var copy = Value.Graph.AddInitializer(Tensor.FromArray<float>(Value.Graph.UniqueName(Value.Name + "_corrected"), Value.Initializer!.Dims.ToArray(), values));
            Reader.SetInput(Slot, copy);
        }
        else
        {
            Value.Graph.ReplaceInitializer(Value, Tensor.FromArray<float>(Value.Name, Value.Initializer!.Dims.ToArray(), values));
        }
    }
}
