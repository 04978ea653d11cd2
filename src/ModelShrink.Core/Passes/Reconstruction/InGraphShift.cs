using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Passes.Reconstruction;

/// <summary>
/// Makes a copy of the student carry, after each layer output v, the shift every later layer will
/// see once v's bias is corrected: v' = v + (t - mean(v)), with t the teacher's per-channel mean of the
/// same batch fed as an extra graph input and mean(v) the student's over the batch, and every reader
/// of v reading v' instead. One run of that copy measures each layer (v itself stays an output) as it
/// is with every earlier layer corrected, which the per-layer algorithm needed one run per layer for.
/// </summary>
internal static class InGraphShift
{
    /// <summary>The graph input that carries the teacher's means of <paramref name="layer"/>.</summary>
    public static string InputName(string layer) => layer + "__teacher_mean";

    /// <summary>
    /// The feed for <see cref="InputName"/>: <paramref name="means"/> as a tensor that broadcasts along
    /// <paramref name="axis"/> of a value of rank <paramref name="rank"/> ([C] then ones).
    /// </summary>
    public static Tensor Feed(string layer, double[] means, int rank, int axis)
    {
        var dims = new long[rank - axis];
        Array.Fill(dims, 1L);
        dims[0] = means.Length;
        return Tensor.FromArray(InputName(layer), dims, means.Select(m => (float)m).ToArray());
    }

    /// <summary>Inserts the shift after each named layer output (rank and channel axis given) in <paramref name="copy"/>.</summary>
    public static void Insert(Model copy, IEnumerable<(string Layer, int Rank, int Axis)> layers)
    {
        var graph = copy.Graph;
        // ReduceMean takes its axes as an input from opset 18, as an attribute before.
        var axesAsInput = copy.Opsets.Default >= 18;
        foreach (var (layer, rank, axis) in layers)
        {
            var value = graph.FindValue(layer) ?? throw new ArgumentException($"'{layer}' is not a value of the main graph", nameof(layers));
            var readers = value.Uses.ToArray();
            var axes = Enumerable.Range(0, rank).Where(a => a != axis).Select(a => (long)a).ToArray();
            var dims = Enumerable.Repeat<Dim>(1L, rank - axis).ToArray();
            dims[0] = layer + "_channels";
            var teacher = graph.AddInput(InputName(layer), TensorType.Of(DataType.Float, dims));
            var mean = axesAsInput
                ? graph.AddNode("ReduceMean", [value, graph.AddInitializer(Tensor.FromArray(graph.UniqueName(layer + "_mean_axes"), [axes.Length], axes))],
                    [layer + "_batch_mean"], [Attribute.FromInt("keepdims", 1)])
                : graph.AddNode("ReduceMean", [value], [layer + "_batch_mean"], [Attribute.FromInts("axes", axes), Attribute.FromInt("keepdims", 1)]);
            var shift = graph.AddNode("Sub", [teacher, mean.Outputs[0]], [layer + "_shift"]);
            var shifted = graph.AddNode("Add", [value, shift.Outputs[0]], [layer + "_shifted"]);
            foreach (var reader in readers)
            {
                reader.Node.SetInput(reader.InputIndex, shifted.Outputs[0]);
            }
        }

        graph.SortTopologically();
    }
}
