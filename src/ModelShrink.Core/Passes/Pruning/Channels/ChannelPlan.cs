using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Protobuf;

namespace ModelShrink.Core.Passes.Pruning.Channels;

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

    /// <summary>
    /// Depthwise Convs the channels pass through, with where the channels sit in their outputs: their group shrinks
    /// by the channels removed that they hold.
    /// </summary>
    public IReadOnlyList<(Node Node, ChannelMapping Mapping)> Regrouped { get; init; } = [];

    /// <summary>Splits and Slices along the channel axis: their sizes or bounds shrink with the channels.</summary>
    public IReadOnlyList<Layout.RangeEdit> Ranges { get; init; } = [];

    /// <summary>
    /// Sets of channels of which one must stay: a Split output, a Slice's range or a member layer made only of them
    /// would otherwise be left empty.
    /// </summary>
    public IReadOnlyList<int[]> Parts { get; init; } = [];

    /// <summary>
    /// Positions of the producer's output axis per channel: 1, or for attention heads the head size (a head is a
    /// run of that many output columns of the Q, K and V projections).
    /// </summary>
    public long Width { get; init; } = 1;

    /// <summary>Whether the channels are attention heads (<see cref="Attention.AttentionHeads"/>).</summary>
    public bool Heads { get; init; }

    /// <summary>Shape constants that count the channels (heads in a Reshape's shape): they shrink with them.</summary>
    public IReadOnlyList<Attention.ShapeEdit> ShapeEdits { get; init; } = [];

    /// <summary>The layer's output channels now.</summary>
    public int Channels => (int)(Producer.Tensor.Dims[Producer.OutputAxis] / Width);

    // Where the producer's own channels sit along its output axis.
    private ChannelMapping Own => new(-1, null, 0, Width, Producer.Tensor.Dims[Producer.OutputAxis]);

    /// <summary>
    /// Each channel's importance to the whole group it belongs to (DepGraph, Fang et al. 2023): the
    /// L2 norm of the producer's output channel plus, for every weight downstream that the channel is
    /// cut from (the next layers' input columns, a depthwise Conv's filters), the norm of its part,
    /// each weight's norms scaled to mean 1 so no member outweighs the others by its scale alone.
    /// </summary>
    public double[] Importance()
    {
        var total = Normalized(PerChannel(TensorSlicing.Norms(Producer.Tensor, Producer.OutputAxis), Own));
        foreach (var slice in Slices)
        {
            var tensor = slice.Node.Inputs[slice.Slot]!.ConstantTensor!;
            if (tensor.Dims.Count < 2)
            {
                continue; // biases and normalization parameters carry no weight of their own
            }

            var normalized = Normalized(PerChannel(TensorSlicing.Norms(tensor, slice.Axis), slice.Mapping));
            for (var c = 0; c < total.Length; c++)
            {
                total[c] += normalized[c];
            }
        }

        return total;
    }

    // The norm of each channel's part, from the norms of the positions along the axis.
    private double[] PerChannel(double[] positions, ChannelMapping mapping)
    {
        var result = new double[Channels];
        for (var c = 0; c < result.Length; c++)
        {
            result[c] = Math.Sqrt(mapping.Positions([c]).Sum(p => p < positions.Length ? positions[p] * positions[p] : 0));
        }

        return result;
    }

    private static double[] Normalized(double[] norms)
    {
        var mean = norms.Length == 0 ? 0 : norms.Average();
        return mean > 0 ? norms.Select(n => n / mean).ToArray() : norms;
    }

    /// <summary>The most important channel of each of <see cref="Parts"/>, by <paramref name="importance"/>: they stay.</summary>
    public IReadOnlySet<int> Protected(double[] importance) =>
        Parts.Select(part => part.OrderByDescending(c => importance[c]).ThenBy(c => c).First()).ToHashSet();

    /// <summary>Removes <paramref name="channels"/> everywhere.</summary>
    public void Apply(IReadOnlyCollection<int> channels)
    {
        WeightStore.Replace(Producer.Weight, TensorSlicing.Remove(Producer.Tensor, Producer.OutputAxis, Own.Positions(channels)));
        foreach (var slice in Slices)
        {
            var tensor = slice.Node.Inputs[slice.Slot]!.ConstantTensor!;
            WeightStore.ReplaceFor(slice.Node, slice.Slot, TensorSlicing.Remove(tensor, slice.Axis, slice.Mapping.Positions(channels)));
        }

        foreach (var (node, mapping) in Regrouped)
        {
            node.SetAttribute(Onnx.Ir.Attribute.FromInt("group", node.GetInt("group", 1) - (mapping.Positions(channels).Length / mapping.Group)));
        }

        foreach (var range in Ranges)
        {
            range.Apply(channels);
        }

        foreach (var edit in ShapeEdits)
        {
            edit.Apply(channels.Count);
        }

        foreach (var (value, mapping) in Values)
        {
            Shrink(value, mapping, mapping.Positions(channels).Length);
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
