using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Pruning.Channels;

/// <summary>The output shape of each op <see cref="ChannelShapes"/> infers through, from its input shapes.</summary>
internal static partial class ChannelShapes
{
    // Resize/Upsample: constant sizes when given, else each dim times its constant scale (floored, as
    // ONNX defines the output size); a feature pyramid's channel count is what Concat needs from it.
    private static long?[]? Resized(Node node, long?[]? input)
    {
        if (node.Is("Resize") && node.Inputs.Count > 3 && node.Inputs[3]?.ConstantTensor is { } sizes)
        {
            return sizes.ToArray<long>().Select(d => (long?)d).ToArray();
        }

        var scales = node.Is("Upsample") && node.FindAttribute("scales") is { } attribute
            ? attribute.Floats.ToArray()
            : node.Inputs.ElementAtOrDefault(node.Is("Upsample") || node.Inputs.Count == 2 ? 1 : 2)?.ConstantTensor?.ToFloatArray();
        if (input is null || scales is null || scales.Length != input.Length || node.FindAttribute("axes") is not null)
        {
            return null;
        }

        return input.Select((d, i) => d is { } size ? (long?)(long)Math.Floor(size * (double)scales[i]) : null).ToArray();
    }

    // Split: the input's dims, with the part's size along the axis (given, or an equal part, the last one smaller).
    private static long?[]? SplitPart(Node node, int index, long?[]? input)
    {
        if (input is null)
        {
            return null;
        }

        var axis = (int)node.GetInt("axis", 0);
        axis = axis < 0 ? axis + input.Length : axis;
        if (axis < 0 || axis >= input.Length)
        {
            return null;
        }

        var sizes = node.GetInts("split")?.ToArray() ?? Integers(node.Inputs.ElementAtOrDefault(1));
        long? size = null;
        if (sizes is not null)
        {
            size = index < sizes.Length ? sizes[index] : null;
        }
        else if (node.Inputs.ElementAtOrDefault(1) is null && input[axis] is { } total)
        {
            var (parts, chunk) = (node.Outputs.Count, (total + node.Outputs.Count - 1) / node.Outputs.Count);
            size = index < parts - 1 ? chunk : total - (chunk * (parts - 1));
        }

        var result = (long?[])input.Clone();
        result[axis] = size;
        return result;
    }

    // Slice by constant bounds (inputs from opset 10, attributes before): each sliced dim of known size becomes
    // the count of the positions kept; the others stay.
    private static long?[]? Sliced(Node node, long?[]? input)
    {
        var (starts, ends, axes, steps, computedAxes, computedSteps) = SliceBounds.Of(node);
        if (input is null || starts is null || ends is null || ends.Length != starts.Length || computedAxes || computedSteps)
        {
            return null;
        }

        axes ??= Enumerable.Range(0, starts.Length).Select(a => (long)a).ToArray();
        var result = (long?[])input.Clone();
        for (var i = 0; i < axes.Length && i < starts.Length; i++)
        {
            var axis = (int)(axes[i] < 0 ? axes[i] + input.Length : axes[i]);
            if (axis < 0 || axis >= input.Length)
            {
                return null;
            }

            var step = steps?[i] ?? 1;
            if (input[axis] is not { } length || step == 0)
            {
                result[axis] = null;
                continue;
            }

            // ONNX's clamping: to [0, length] for a positive step, [-1, length - 1] for a negative one.
            var (low, high) = step > 0 ? (0L, length) : (-1L, length - 1);
            var start = Math.Clamp(starts[i] < 0 ? starts[i] + length : starts[i], low, high);
            var end = Math.Clamp(ends[i] < 0 ? ends[i] + length : ends[i], low, high);
            result[axis] = Math.Max(0, step > 0 ? (end - start + step - 1) / step : (start - end - step - 1) / -step);
        }

        return result;
    }

    // Pad with constant pads: each dim grows by its two pads.
    private static long?[]? Padded(Node node, long?[]? input)
    {
        var pads = ConstantPads(node, input?.Length);
        if (input is null || pads is null)
        {
            return null;
        }

        return input.Select((d, i) => d + pads[i] + pads[i + input.Length]).ToArray();
    }

    // Concat: the inputs' dims, with the sizes along the axis added up.
    private static long?[]? Concatenated(Node node, List<long?[]?> shapes)
    {
        if (shapes.Count == 0 || shapes.Any(s => s is null) || shapes.Select(s => s!.Length).Distinct().Count() != 1)
        {
            return null;
        }

        var rank = shapes[0]!.Length;
        var axis = (int)node.GetInt("axis", 0);
        axis = axis < 0 ? axis + rank : axis;
        if (axis < 0 || axis >= rank)
        {
            return null;
        }

        var result = new long?[rank];
        for (var d = 0; d < rank; d++)
        {
            result[d] = d == axis
                ? shapes.All(s => s![d] is not null) ? shapes.Sum(s => s![d]!.Value) : null
                : shapes.Select(s => s![d]).FirstOrDefault(v => v is not null);
        }

        return result;
    }

    // Numpy broadcasting of the known shapes; unknown when any rank is unknown.
    private static long?[]? Broadcast(List<long?[]?> shapes)
    {
        if (shapes.Any(s => s is null))
        {
            return null;
        }

        var rank = shapes.Max(s => s!.Length);
        var result = new long?[rank];
        for (var i = 0; i < rank; i++)
        {
            long? size = 1;
            foreach (var shape in shapes)
            {
                var j = i - (rank - shape!.Length);
                var d = j < 0 ? 1 : shape[j];
                size = d is null ? (size == 1 ? null : size) : d == 1 ? size : d;
            }

            result[i] = size;
        }

        return result;
    }

    // Conv and pooling output: N, then channels (Conv: the weight's O), then each spatial dim.
    private static long?[]? Windowed(Node node, long?[]? input, long[]? weight, bool isConv)
    {
        if (input is null || input.Length < 3)
        {
            return null;
        }

        var spatial = input.Length - 2;
        var kernel = isConv ? weight?.Skip(2).ToArray() : node.GetInts("kernel_shape")?.ToArray();
        if (kernel is null || kernel.Length != spatial)
        {
            return null;
        }

        var strides = node.GetInts("strides") ?? Enumerable.Repeat(1L, spatial).ToArray();
        var dilations = node.GetInts("dilations") ?? Enumerable.Repeat(1L, spatial).ToArray();
        var pads = node.GetInts("pads") ?? Enumerable.Repeat(0L, 2 * spatial).ToArray();
        var autoPad = node.GetString("auto_pad", "NOTSET");
        var ceil = !isConv && node.GetInt("ceil_mode", 0) != 0;
        var result = new long?[input.Length];
        result[0] = input[0];
        result[1] = isConv ? weight![0] : input[1];
        for (var i = 0; i < spatial; i++)
        {
            if (input[2 + i] is not { } size)
            {
                continue;
            }

            var span = dilations[i] * (kernel[i] - 1) + 1;
            result[2 + i] = autoPad switch
            {
                "SAME_UPPER" or "SAME_LOWER" => (size + strides[i] - 1) / strides[i],
                "VALID" => (size - span) / strides[i] + 1,
                _ => Divide(size + pads[i] + pads[i + spatial] - span, strides[i], ceil) + 1,
            };
        }

        return result;
    }

    private static long Divide(long a, long b, bool ceil) => ceil ? (a + b - 1) / b : a / b;
}
