using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Quantization;

/// <summary>
/// Whether a model's default-domain opset can be raised by changing only the number: true when no
/// node uses an operator whose specification changed incompatibly between the model's opset and
/// the target (an attribute turned into an input, a default or a meaning changed, the operator was
/// removed). Changes that only add types, negative axes or optional attributes with the old
/// behaviour as default do not block. Source: the ONNX operator changelog (docs/Changelog.md).
/// Rewriting the blocking nodes is an opset upgrade, which this class does not do.
/// </summary>
public static class OpsetRaise
{
    private static readonly Dictionary<string, Change[]> Changes = BuildTable();

    /// <summary>One incompatible change: the opset that made it, and whether a given node is affected.</summary>
    private sealed record Change(int Version, Func<Node, bool> Affects);

    /// <summary>
    /// The nodes (as "OpType(name) changed in opset V") that block raising <paramref name="model"/>'s
    /// default opset to <paramref name="target"/>, in every graph; empty when the number alone may change.
    /// </summary>
    public static IReadOnlyList<string> Blockers(Model model, long target)
    {
        var current = model.Opsets.Default;
        var blockers = new List<string>();
        if (current >= target)
        {
            return blockers;
        }

        foreach (var node in model.Graph.EnumerateNodes())
        {
            if (node.Domain is not ("" or "ai.onnx") || !Changes.TryGetValue(node.OpType, out var changes))
            {
                continue;
            }

            foreach (var change in changes)
            {
                if (change.Version > current && change.Version <= target && change.Affects(node))
                {
                    blockers.Add($"{node.OpType}({node.Name}) changed in opset {change.Version}");
                    break;
                }
            }
        }

        return blockers;
    }

    /// <summary>The first blockers, for a message: "A; B; C; and 4 more".</summary>
    public static string Describe(IReadOnlyList<string> blockers) =>
        blockers.Count <= 3 ? string.Join("; ", blockers) : $"{string.Join("; ", blockers.Take(3))}; and {blockers.Count - 3} more";

    /// <summary>Whether the default opset can be raised to <paramref name="target"/> by changing the number alone.</summary>
    public static bool CanRaise(Model model, long target) => Blockers(model, target).Count == 0;

    /// <summary>
    /// Raises the default opset to <paramref name="target"/> (and the IR version to the one that
    /// opset needs); callers check <see cref="CanRaise"/> first. Never lowers either.
    /// </summary>
    public static void Raise(Model model, long target)
    {
        OpsetImports.RaiseDefault(model, Math.Max(model.Opsets.Default, target));
    }


    private static Dictionary<string, Change[]> BuildTable()
    {
        static bool Always(Node node) => true;
        static Func<Node, bool> Has(params string[] attributes) => node => attributes.Any(a => node.FindAttribute(a) is not null);
        static bool ManyOutputs(Node node) => node.Outputs.Count(o => o is not null) > 1;

        var table = new Dictionary<string, Change[]>(StringComparer.Ordinal);
        void Add(int version, Func<Node, bool> affects, params string[] ops)
        {
            foreach (var op in ops)
            {
                table[op] = [.. table.GetValueOrDefault(op, []), new Change(version, affects)];
            }
        }

        // Opset 6: consumed_inputs removed; 7: the broadcast/axis attributes replaced by numpy broadcasting.
        Add(6, Has("consumed_inputs"), "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Neg", "Abs", "Sqrt", "Reciprocal", "Floor",
            "Ceil", "LeakyRelu", "Elu", "Selu", "HardSigmoid", "Clip", "BatchNormalization", "InstanceNormalization",
            "Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "PRelu");
        Add(7, Has("broadcast", "axis"), "Add", "Sub", "Mul", "Div", "Pow", "And", "Or", "Xor", "Equal", "Greater", "Less", "PRelu");
        Add(7, Has("broadcast"), "Gemm");
        Add(7, Has("is_test"), "BatchNormalization", "Dropout");
        Add(7, Has("output_sequence"), "LSTM", "GRU", "RNN");
        Add(9, Has("spatial"), "BatchNormalization");
        Add(9, Always, "Scan");

        // Opset 10: attributes became inputs; experimental operators removed.
        Add(10, Always, "Slice", "TopK", "Upsample", "ATen", "Affine", "Crop", "DynamicSlice", "GRUUnit", "GivenTensorFill",
            "ImageScaler", "ParametricSoftplus", "Scale", "ScaledTanh");
        Add(10, ManyOutputs, "Dropout");

        // Opset 11: min/max and pads became inputs; Resize's inputs changed; Scatter removed.
        Add(11, Has("min", "max"), "Clip");
        Add(11, Always, "Pad", "Resize", "Scatter");

        Add(12, Has("ratio"), "Dropout");

        // Opset 13: Softmax family works on one axis instead of a flattened 2-D view; axes/split became inputs.
        Add(13, SoftmaxChanged, "Softmax", "LogSoftmax", "Hardmax");
        Add(13, Has("axes"), "Squeeze", "Unsqueeze", "ReduceSum");
        Add(13, Has("split"), "Split");

        Add(14, ManyOutputs, "BatchNormalization");
        Add(16, node => node.FindAttribute("coordinate_transformation_mode") is null, "RoiAlign");
        Add(18, Has("axes"), "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
            "ReduceLogSumExp", "ReduceSumSquare");
        Add(20, node => node.GetString("mode", "") is "bilinear" or "bicubic", "GridSample");
        Add(20, Has("axis"), "DFT");
        Add(21, Always, "GroupNormalization");
        return table;
    }

    // Before opset 13 Softmax flattened the input to 2-D at `axis` (default 1); from 13 it normalizes
    // along `axis` alone (default -1). The two agree when the axis is the last one.
    private static bool SoftmaxChanged(Node node)
    {
        var axis = node.FindAttribute("axis")?.Int ?? 1;
        if (axis == -1)
        {
            return false;
        }

        var rank = node.Inputs.Count > 0 ? node.Inputs[0]?.Type?.TensorType?.Shape?.Dim.Count : null;
        return rank is not { } r || (axis < 0 ? axis + r : axis) != r - 1;
    }
}
