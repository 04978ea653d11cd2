using ModelShrink.Core.Passes.Types;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Passes.Cleanup;

/// <summary>What one upgrade run needs besides the node: the opsets, warnings, and the constants it creates.</summary>
internal sealed class UpgradeContext(PassContext pass, long from, long to)
{
    private readonly Dictionary<(Graph, string), Value> constants = [];

    /// <summary>The model's opset before the upgrade.</summary>
    public long From => from;

    /// <summary>The opset being upgraded to.</summary>
    public long To => to;

    /// <summary>A 1-D int64 initializer (shared with identical ones this run created in the same graph).</summary>
    public Value Int64s(Graph graph, IReadOnlyList<long> values, string hint) =>
        Constant(graph, Tensor.FromArray<long>("t", [values.Count], values.ToArray()), hint);

    /// <summary>A float32 initializer of the given shape.</summary>
    public Value Floats(Graph graph, float[] values, long[] dims, string hint) =>
        Constant(graph, Tensor.FromArray<float>("t", dims, values), hint);

    /// <summary>A scalar initializer of a floating-point element type.</summary>
    public Value Scalar(Graph graph, DataType type, float value, string hint) => type switch
    {
        DataType.Double => Constant(graph, Tensor.FromArray<double>("t", [], [value]), hint),
        DataType.Float16 => Constant(graph, Tensor.FromArray<Half>("t", [], [(Half)value]), hint),
        DataType.BFloat16 => Constant(graph, Tensor.FromArray<BFloat16>("t", [], [(BFloat16)value]), hint),
        _ => Constant(graph, Tensor.FromArray<float>("t", [], [value]), hint),
    };

    /// <summary>
    /// The element type of a node's floating-point input, for constants that must match it; float32,
    /// with a warning, when the model does not determine it.
    /// </summary>
    public DataType FloatTypeOf(Node node, Value input)
    {
        var type = ElementTypeInference.Of(input);
        if (type is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16)
        {
            return type.Value;
        }

        pass.Warn(ErrorCodes.ElementTypeAssumed,
            $"the element type of '{input.Name}' (input of {node.OpType} node '{node.Name}') is not known; the constant the opset upgrade added for it is float32");
        return DataType.Float;
    }

    private Value Constant(Graph graph, Tensor tensor, string hint)
    {
        var key = $"{(int)tensor.DataType}|{string.Join(",", tensor.Dims)}|{Convert.ToHexString(tensor.GetRawData().Span)}";
        if (!constants.TryGetValue((graph, key), out var value))
        {
            value = graph.AddInitializer(tensor.WithName(graph.UniqueName(hint)));
            constants[(graph, key)] = value;
        }

        return value;
    }
}

/// <summary>
/// How to rewrite a node across an opset change that alters its form or meaning.
/// <paramref name="Check"/> returns why the node cannot be upgraded (null when it can) and changes
/// nothing; <paramref name="Apply"/> rewrites the node (possibly replacing it) and says whether it
/// changed. Both get the since_version of the node's definition in the old opset.
/// </summary>
internal sealed record OpUpgrade(Func<Node, int, UpgradeContext, string?> Check, Func<Node, int, UpgradeContext, bool> Apply);

/// <summary>The rewrites for every breaking change in <see cref="OpsetHistory.Breaking"/> that has one.</summary>
internal static class OpsetUpgrades
{
    private static readonly Func<Node, int, UpgradeContext, string?> Always = (_, _, _) => null;

    public static IReadOnlyDictionary<string, OpUpgrade> Rewrites { get; } = Build();

    private static Dictionary<string, OpUpgrade> Build()
    {
        var axesToInput = new OpUpgrade(Always, (node, _, ctx) => AttributeToInput(node, "axes", 1, ctx));
        var rewrites = new Dictionary<string, OpUpgrade>(StringComparer.Ordinal)
        {
            ["Clip"] = new(Always, Clip),
            ["Softmax"] = new(Always, SoftmaxFamily),
            ["LogSoftmax"] = new(Always, SoftmaxFamily),
            ["Hardmax"] = new(Always, SoftmaxFamily),
            ["Squeeze"] = axesToInput,
            ["Unsqueeze"] = axesToInput,
            ["Split"] = new(Always, Split),
            ["Slice"] = new(Always, Slice),
            ["Pad"] = new(Always, Pad),
            ["TopK"] = new(Always, (node, _, ctx) => TopK(node, ctx)),
            ["Dropout"] = new(CheckDropout, Dropout),
            ["BatchNormalization"] = new(CheckBatchNormalization, BatchNormalization),
            ["Upsample"] = new(CheckUpsample, Upsample),
            ["Resize"] = new(CheckResize10, Resize10),
            ["Scatter"] = new(Always, (node, _, _) => Rename(node, "ScatterElements")),
            ["RoiAlign"] = new(Always, (node, _, _) => SetDefault(node, "coordinate_transformation_mode", "output_half_pixel")),
            ["GridSample"] = new(Always, (node, _, _) => GridSample(node)),
        };
        foreach (var reduce in new[] { "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare" })
        {
            rewrites[reduce] = axesToInput;
        }

        return rewrites;
    }

    // Clip-11: min and max moved from attributes to optional inputs of the input's type.
    private static bool Clip(Node node, int old, UpgradeContext ctx)
    {
        var min = node.FindAttribute("min");
        var max = node.FindAttribute("max");
        if (min is null && max is null)
        {
            return false;
        }

        var graph = node.Graph;
        var type = ctx.FloatTypeOf(node, node.Inputs[0]!);
        node.TruncateInputs(1);
        node.AddInput(min is null ? null : ctx.Scalar(graph, type, min.Float, $"{node.Name}_min"));
        if (max is not null)
        {
            node.AddInput(ctx.Scalar(graph, type, max.Float, $"{node.Name}_max"));
        }

        RemoveAttributes(node, "min", "max");
        return true;
    }

    // Softmax-13 (and LogSoftmax, Hardmax) normalises along one axis; before, the input was coerced
    // to 2-D at `axis` (default 1) and normalised along the flattened trailing dimensions. The two
    // agree when the axis is the last one; otherwise Flatten, normalise the 2-D rows, and Reshape back.
    private static bool SoftmaxFamily(Node node, int old, UpgradeContext ctx)
    {
        var axisAttribute = node.FindAttribute("axis");
        var axis = axisAttribute?.Int ?? 1;
        var input = node.Inputs[0]!;
        var rank = Rank(input) ?? Rank(node.Outputs[0]!);
        if (axis == -1 || (rank is { } r && (axis < 0 ? axis + r : axis) == r - 1))
        {
            if (axisAttribute is not null && axisAttribute.Int == -1)
            {
                return false;
            }

            node.SetAttribute(Attribute.FromInt("axis", -1));
            return true;
        }

        var graph = node.Graph;
        var name = node.Outputs[0]!.Name;
        var flat = graph.AddNode("Flatten", [input], [$"{name}_2d"], [Attribute.FromInt("axis", axis)], before: node);
        var normalized = graph.AddNode(node.OpType, [flat.Outputs[0]], [$"{name}_2d_out"], [Attribute.FromInt("axis", -1)], before: node);
        var shape = graph.AddNode("Shape", [input], [$"{name}_shape"], before: node);
        var reshaped = graph.AddNode("Reshape", [normalized.Outputs[0], shape.Outputs[0]], [$"{name}_nd"], before: node);
        GraphEdits.ReplaceOutputs(node, [reshaped.Outputs[0]]);
        return true;
    }

    // Split-13: split sizes moved from an attribute to an input. Split-18: without sizes, the
    // number of outputs must be given as num_outputs.
    private static bool Split(Node node, int old, UpgradeContext ctx)
    {
        var changed = old < 13 && ctx.To >= 13 && AttributeToInput(node, "split", 1, ctx);
        if (ctx.To >= 18 && (node.Inputs.Count < 2 || node.Inputs[1] is null) && node.FindAttribute("num_outputs") is null)
        {
            node.SetAttribute(Attribute.FromInt("num_outputs", node.Outputs.Count));
            changed = true;
        }

        return changed;
    }

    // Slice-10: starts, ends and axes moved from attributes to inputs (steps is new and optional).
    private static bool Slice(Node node, int old, UpgradeContext ctx)
    {
        var graph = node.Graph;
        var starts = node.GetInts("starts") ?? [];
        var ends = node.GetInts("ends") ?? [];
        var axes = node.GetInts("axes");
        node.TruncateInputs(1);
        node.AddInput(ctx.Int64s(graph, starts, $"{node.Name}_starts"));
        node.AddInput(ctx.Int64s(graph, ends, $"{node.Name}_ends"));
        if (axes is not null)
        {
            node.AddInput(ctx.Int64s(graph, axes, $"{node.Name}_axes"));
        }

        RemoveAttributes(node, "starts", "ends", "axes");
        return true;
    }

    // Pad-11: pads and the constant value moved from attributes to inputs.
    private static bool Pad(Node node, int old, UpgradeContext ctx)
    {
        var graph = node.Graph;
        var pads = node.GetInts("pads") ?? [];
        var mode = node.GetString("mode", "constant");
        var value = node.GetFloat("value", 0f);
        node.TruncateInputs(1);
        node.AddInput(ctx.Int64s(graph, pads, $"{node.Name}_pads"));
        if (mode == "constant" && value != 0f)
        {
            node.AddInput(ctx.Scalar(graph, ctx.FloatTypeOf(node, node.Inputs[0]!), value, $"{node.Name}_value"));
        }

        RemoveAttributes(node, "pads", "value");
        return true;
    }

    // TopK-10: k moved from an attribute to a 1-element int64 input.
    private static bool TopK(Node node, UpgradeContext ctx)
    {
        if (node.FindAttribute("k") is not { } k)
        {
            return false;
        }

        node.TruncateInputs(1);
        node.AddInput(ctx.Int64s(node.Graph, [k.Int], $"{node.Name}_k"));
        RemoveAttributes(node, "k");
        return true;
    }

    // Dropout-10 made the mask bool (it had the input's type); Dropout-12 moved ratio to an input.
    private static string? CheckDropout(Node node, int old, UpgradeContext ctx) =>
        old < 10 && ctx.To >= 10 && node.Outputs.Count > 1 && node.Outputs[1] is { } mask && (mask.Uses.Count > 0 || mask.IsGraphOutput)
            ? "its mask output is read, and the mask's type changed from the input's type to bool at opset 10"
            : null;

    private static bool Dropout(Node node, int old, UpgradeContext ctx)
    {
        if (old >= 12 || ctx.To < 12 || node.FindAttribute("ratio") is not { } ratio)
        {
            return false;
        }

        node.TruncateInputs(1);
        node.AddInput(ctx.Scalar(node.Graph, DataType.Float, ratio.Float, $"{node.Name}_ratio"));
        RemoveAttributes(node, "ratio");
        return true;
    }

    // BatchNormalization-9 dropped `spatial` (only spatial=1 remains). Before opset 14 a node with
    // more than one output runs in training mode (batch statistics; ONNX Runtime does the same);
    // BatchNormalization-14 says so with training_mode instead: such a node is a training graph.
    private static string? CheckBatchNormalization(Node node, int old, UpgradeContext ctx)
    {
        if (old < 9 && node.GetInt("spatial", 1) == 0)
        {
            return "spatial=0 (per-activation statistics) has no equivalent from opset 9 on";
        }

        return ctx.To >= 14 && node.Outputs.Count > 1
            ? $"it declares {node.Outputs.Count} outputs, which before opset 14 means training mode (batch statistics); only inference graphs are upgraded"
            : null;
    }

    private static bool BatchNormalization(Node node, int old, UpgradeContext ctx) => RemoveAttributes(node, "spatial");

    // Upsample-9 moved scales to an input; Upsample-10 is deprecated in favour of Resize. Before
    // opset 11 the coordinate transform was asymmetric and nearest rounding truncated upward scales
    // (which Upsample requires to be at least 1), i.e. floor: Resize-11 says so explicitly.
    private static string? CheckUpsample(Node node, int old, UpgradeContext ctx)
    {
        var mode = node.GetString("mode", "nearest");
        return mode is "nearest" or "linear" or "bilinear" ? null : $"its mode '{mode}' has no Resize equivalent";
    }

    private static bool Upsample(Node node, int old, UpgradeContext ctx)
    {
        var graph = node.Graph;
        var scales = old < 9
            ? ctx.Floats(graph, node.FindAttribute("scales")?.Floats.ToArray() ?? [], [node.FindAttribute("scales")?.Floats.Count ?? 0], $"{node.Name}_scales")
            : node.Inputs[1];
        RemoveAttributes(node, "scales");
        if (ctx.To < 10)
        {
            node.TruncateInputs(1);
            node.AddInput(scales);
            return true;
        }

        var mode = node.GetString("mode", "nearest") is "bilinear" ? "linear" : node.GetString("mode", "nearest");
        node.OpType = "Resize";
        node.SetAttribute(Attribute.FromString("mode", mode));
        MoveScalesBehindRoi(node, scales, ctx);
        if (ctx.To >= 11)
        {
            node.SetAttribute(Attribute.FromString("coordinate_transformation_mode", "asymmetric"));
            if (mode == "nearest")
            {
                node.SetAttribute(Attribute.FromString("nearest_mode", "floor"));
            }
        }

        return true;
    }

    // Resize-11 added roi before scales and made the coordinate transform and nearest rounding
    // explicit. Resize-10 was asymmetric, and its nearest rounding was floor when upsampling and
    // ceil when downsampling, which one nearest_mode can say only when all scales go one way.
    private static string? CheckResize10(Node node, int old, UpgradeContext ctx)
    {
        if (node.GetString("mode", "nearest") != "nearest")
        {
            return null;
        }

        return NearestMode(node.Inputs.Count > 1 ? node.Inputs[1] : null) is null
            ? "Resize-10 rounds nearest pixels down when upsampling and up when downsampling; its scales are not constant, or mix both, so no single nearest_mode reproduces it"
            : null;
    }

    private static bool Resize10(Node node, int old, UpgradeContext ctx)
    {
        var scales = node.Inputs[1];
        MoveScalesBehindRoi(node, scales, ctx);
        node.SetAttribute(Attribute.FromString("coordinate_transformation_mode", "asymmetric"));
        if (node.GetString("mode", "nearest") == "nearest")
        {
            node.SetAttribute(Attribute.FromString("nearest_mode", NearestMode(scales)!));
        }

        return true;
    }

    private static string? NearestMode(Value? scales)
    {
        if (scales?.ConstantTensor is not { DataType: DataType.Float } tensor)
        {
            return null;
        }

        var values = tensor.ToArray<float>();
        return values.All(s => s >= 1) ? "floor" : values.All(s => s <= 1) ? "ceil" : null;
    }

    private static void MoveScalesBehindRoi(Node node, Value? scales, UpgradeContext ctx)
    {
        node.TruncateInputs(1);
        if (ctx.To >= 11)
        {
            // roi is optional from opset 13; before, an empty tensor stands for "none".
            node.AddInput(ctx.To >= 13 ? null : ctx.Floats(node.Graph, [], [0], $"{node.Name}_roi"));
        }

        node.AddInput(scales);
    }

    // GridSample-20 renamed the modes bilinear and bicubic to linear and cubic.
    private static bool GridSample(Node node)
    {
        var mode = node.FindAttribute("mode")?.String;
        var renamed = mode switch { "bilinear" => "linear", "bicubic" => "cubic", _ => null };
        if (renamed is null)
        {
            return false;
        }

        node.SetAttribute(Attribute.FromString("mode", renamed));
        return true;
    }

    private static bool AttributeToInput(Node node, string attribute, int slot, UpgradeContext ctx)
    {
        if (node.GetInts(attribute) is not { } values)
        {
            return false;
        }

        node.TruncateInputs(slot);
        while (node.Inputs.Count < slot)
        {
            node.AddInput(null);
        }

        node.AddInput(ctx.Int64s(node.Graph, values, $"{node.Name}_{attribute}"));
        RemoveAttributes(node, attribute);
        return true;
    }

    private static bool Rename(Node node, string opType)
    {
        node.OpType = opType;
        return true;
    }

    private static bool SetDefault(Node node, string attribute, string value)
    {
        if (node.FindAttribute(attribute) is not null)
        {
            return false;
        }

        node.SetAttribute(Attribute.FromString(attribute, value));
        return true;
    }

    private static bool RemoveAttributes(Node node, params string[] names) =>
        node.Attributes.RemoveAll(a => names.Contains(a.Name)) > 0;

    private static int? Rank(Value value) =>
        value.Type?.TensorType?.Shape is { } shape ? shape.Dim.Count : null;
}
