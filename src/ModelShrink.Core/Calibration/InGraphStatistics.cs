using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Calibration;

/// <summary>
/// Statistics ONNX Runtime computes inside an augmented copy, so that a run hands back a few numbers per
/// value instead of the value itself: exposing whole activations costs more than the inference (ORT
/// allocates every exposed output afresh, and each is copied out), most of it page faults on fresh memory.
/// </summary>
public static class InGraphStatistics
{
    /// <summary>The output holding the smallest element of <paramref name="value"/> in the batch (a scalar).</summary>
    public static string Min(string value) => value + "__min";

    /// <summary>The output holding the largest element of <paramref name="value"/> in the batch (a scalar).</summary>
    public static string Max(string value) => value + "__max";

    /// <summary>The output holding the per-channel mean of <paramref name="value"/> over the batch ([C]).</summary>
    public static string ChannelMean(string value) => value + "__channel_mean";

    /// <summary>The output holding the shape of <paramref name="value"/> in the batch (int64, [rank]).</summary>
    public static string Shape(string value) => value + "__shape";

    /// <summary>Adds <see cref="Min"/> and <see cref="Max"/> of each of <paramref name="values"/> to <paramref name="copy"/> (ReduceMin/ReduceMax over every axis).</summary>
    public static void AddMinMax(Model copy, IEnumerable<string> values)
    {
        var graph = copy.Graph;
        foreach (var name in values)
        {
            var value = Find(graph, name);
            graph.AddNode("ReduceMin", [value], [Min(name)], [Attribute.FromInt("keepdims", 0)]);
            graph.AddNode("ReduceMax", [value], [Max(name)], [Attribute.FromInt("keepdims", 0)]);
        }
    }

    /// <summary>
    /// Adds <see cref="ChannelMean"/> and <see cref="Shape"/> of each value: channels on axis 1 (Conv:
    /// the value seen as [N, C, rest] through Reshape [0, 0, -1]) or on the last axis (seen as [rows, C],
    /// C sliced from its own shape), so neither the rank nor the channel count needs to be known. Needs
    /// opset 5 (Reshape with a shape input).
    /// </summary>
    public static void AddChannelMeans(Model copy, IEnumerable<(string Value, bool ChannelsOnAxis1)> values)
    {
        var graph = copy.Graph;
        var opset = copy.Opsets.Default;
        foreach (var (name, axis1) in values)
        {
            var value = Find(graph, name);
            var shape = graph.AddNode("Shape", [value], [Shape(name)]).Outputs[0]!;
            shape.Type = TensorType.OfUnknownShape(DataType.Int64);
            Value target;
            if (axis1)
            {
                target = Constant(graph, name + "_ncs", [0, 0, -1]);
            }
            else
            {
                // C = shape[-1]: Slice takes attributes before opset 10, inputs from it.
                var channels = opset >= 10
                    ? graph.AddNode("Slice", [shape, Constant(graph, name + "_last", [-1]), Constant(graph, name + "_end", [long.MaxValue])], [name + "_channels"]).Outputs[0]!
                    : graph.AddNode("Slice", [shape], [name + "_channels"],
                        [Attribute.FromInts("starts", [-1]), Attribute.FromInts("ends", [long.MaxValue]), Attribute.FromInts("axes", [0])]).Outputs[0]!;
                target = graph.AddNode("Concat", [Constant(graph, name + "_rows", [-1]), channels], [name + "_rows_channels"], [Attribute.FromInt("axis", 0)]).Outputs[0]!;
            }

            var reshaped = graph.AddNode("Reshape", [value, target], [name + "_by_channel"]).Outputs[0]!;
            long[] axes = axis1 ? [0, 2] : [0];
            if (opset >= 18)
            {
                graph.AddNode("ReduceMean", [reshaped, Constant(graph, name + "_mean_axes", axes)], [ChannelMean(name)], [Attribute.FromInt("keepdims", 0)]);
            }
            else
            {
                graph.AddNode("ReduceMean", [reshaped], [ChannelMean(name)], [Attribute.FromInts("axes", axes), Attribute.FromInt("keepdims", 0)]);
            }
        }
    }

    private static Value Find(Graph graph, string name) =>
        graph.FindValue(name) ?? throw new ArgumentException($"'{name}' is not a value of the main graph", nameof(name));

    private static Value Constant(Graph graph, string name, long[] values) =>
        graph.AddInitializer(Tensor.FromArray(graph.UniqueName(name), [values.Length], values));
}
