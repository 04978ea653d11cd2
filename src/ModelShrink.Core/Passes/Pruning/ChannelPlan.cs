using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Protobuf;

namespace ModelShrink.Core.Passes.Pruning;

/// <summary>
/// A constant input to cut: input <see cref="Slot"/> of <see cref="Node"/>, along its own axis <see cref="Axis"/>;
/// <see cref="Consumes"/> when it is the weight of a layer that reads the channels as its inputs (the next Conv,
/// Gemm or MatMul), whose output a refit can restore.
/// </summary>
internal sealed record ChannelSlice(Node Node, int Slot, int Axis, ChannelMapping Mapping, bool Consumes = false);

/// <summary>
/// Everything that changes when output channels of one layer go: the layer's weight (and bias)
/// along its output axis, every constant that lines up with the channels downstream (biases,
/// BatchNormalization parameters, element-wise operands, the next layers' weights along their
/// input axis, at the place a Flatten or Concat moved them to), and the declared shapes of the
/// values the channels flow through.
/// </summary>
internal sealed record ChannelPlan(PrunableLayer Producer, IReadOnlyList<ChannelSlice> Slices, IReadOnlyDictionary<Value, ChannelMapping> Values)
{
    /// <summary>
    /// Every layer whose output channels go together: the producer, then the layers that join it at a
    /// residual Add or a gating Mul (their weights are among <see cref="Slices"/>, cut along their output axis).
    /// </summary>
    public IReadOnlyList<PrunableLayer> Members { get; init; } = [Producer];

    /// <summary>Depthwise Convs the channels pass through: their group shrinks by the channels removed.</summary>
    public IReadOnlyList<Node> Regrouped { get; init; } = [];

    /// <summary>The layer's output channels now.</summary>
    public int Channels => (int)Producer.Tensor.Dims[Producer.OutputAxis];

    /// <summary>
    /// Each channel's importance to the whole group it belongs to (DepGraph, Fang et al. 2023): the
    /// L2 norm of the producer's output channel plus, for every weight downstream that the channel is
    /// cut from (the next layers' input columns, a depthwise Conv's filters), the norm of its part,
    /// each weight's norms scaled to mean 1 so no member outweighs the others by its scale alone.
    /// </summary>
    public double[] Importance()
    {
        var total = Normalized(TensorSlicing.Norms(Producer.Tensor, Producer.OutputAxis));
        foreach (var slice in Slices)
        {
            var tensor = slice.Node.Inputs[slice.Slot]!.ConstantTensor!;
            if (tensor.Dims.Count < 2)
            {
                continue; // biases and normalization parameters carry no weight of their own
            }

            var positions = TensorSlicing.Norms(tensor, slice.Axis);
            var member = new double[total.Length];
            for (var c = 0; c < member.Length; c++)
            {
                member[c] = Math.Sqrt(slice.Mapping.Positions([c]).Sum(p => p < positions.Length ? positions[p] * positions[p] : 0));
            }

            var normalized = Normalized(member);
            for (var c = 0; c < total.Length; c++)
            {
                total[c] += normalized[c];
            }
        }

        return total;
    }

    private static double[] Normalized(double[] norms)
    {
        var mean = norms.Length == 0 ? 0 : norms.Average();
        return mean > 0 ? norms.Select(n => n / mean).ToArray() : norms;
    }

    /// <summary>Removes <paramref name="channels"/> everywhere.</summary>
    public void Apply(IReadOnlyCollection<int> channels)
    {
        var own = channels.Select(c => (long)c).ToArray();
        WeightStore.Replace(Producer.Weight, TensorSlicing.Remove(Producer.Tensor, Producer.OutputAxis, own));
        foreach (var slice in Slices)
        {
            var tensor = slice.Node.Inputs[slice.Slot]!.ConstantTensor!;
            WeightStore.ReplaceFor(slice.Node, slice.Slot, TensorSlicing.Remove(tensor, slice.Axis, slice.Mapping.Positions(channels)));
        }

        foreach (var node in Regrouped)
        {
            node.SetAttribute(Onnx.Ir.Attribute.FromInt("group", node.GetInt("group", 1) - channels.Count));
        }

        foreach (var (value, mapping) in Values)
        {
            Shrink(value, mapping, channels.Count * mapping.Group);
        }
    }

    // A declared fixed size along the channel axis shrinks with it (ONNX Runtime checks declared shapes).
    private static void Shrink(Value value, ChannelMapping mapping, long removed)
    {
        if (value.Type?.TensorType?.Shape is not { } shape)
        {
            return;
        }

        var axis = shape.Dim.Count + mapping.FromEnd;
        if (axis < 0 || !shape.Dim[axis].HasDimValue)
        {
            return;
        }

        var type = value.Type.Clone();
        type.TensorType.Shape.Dim[axis] = new TensorShapeProto.Types.Dimension { DimValue = shape.Dim[axis].DimValue - removed };
        value.Type = type;
    }
}
