using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>
/// How one MatMul, Gemm or Conv computes y = W·x, as reconstruction needs it: its weight seen as
/// <see cref="Groups"/> matrices W [<see cref="Rows"/> outputs, <see cref="Columns"/> inputs], and its
/// input activation cut into the rows x those matrices multiply (a token's features for MatMul and
/// Gemm, an im2col patch for Conv, whose column order (input channel, kernel position...) is the
/// weight's own).
/// </summary>
internal sealed class LayerGeometry
{
    private const int PatchChunk = 256;
    private readonly WeightLayout layout;
    private readonly bool transposeInput;
    private readonly int[] kernel = [];
    private readonly int[] strides = [];
    private readonly int[] dilations = [];
    private readonly int[] pads = [];
    private readonly string autoPad = "NOTSET";

    private LayerGeometry(Node node, Value weight, Value input, WeightLayout layout, int groups, int rows, int columns)
    {
        Node = node;
        Weight = weight.Name;
        Input = input.Name;
        this.layout = layout;
        Groups = groups;
        Rows = rows;
        Columns = columns;
        WeightDims = weight.ConstantTensor!.Dims.ToArray();
        transposeInput = layout != WeightLayout.Conv && node.Is("Gemm") && node.GetInt("transA", 0) != 0;
        if (layout == WeightLayout.Conv)
        {
            kernel = WeightDims.Skip(2).Select(d => (int)d).ToArray();
            var spatial = kernel.Length;
            strides = Ints(node, "strides", spatial, 1);
            dilations = Ints(node, "dilations", spatial, 1);
            pads = Ints(node, "pads", 2 * spatial, 0);
            autoPad = node.GetString("auto_pad", "NOTSET");
        }
    }

    private enum WeightLayout
    {
        // [K, N]: MatMul, Gemm with transB = 0.
        InputsByOutputs,

        // [N, K]: Gemm with transB = 1.
        OutputsByInputs,

        // [O, I/g, k...].
        Conv,
    }

    /// <summary>The node.</summary>
    public Node Node { get; }

    /// <summary>The weight initializer's name.</summary>
    public string Weight { get; }

    /// <summary>The input activation's name.</summary>
    public string Input { get; }

    /// <summary>Independent weight matrices (Conv groups; 1 otherwise).</summary>
    public int Groups { get; }

    /// <summary>Outputs per group.</summary>
    public int Rows { get; }

    /// <summary>Inputs per group: the width of H.</summary>
    public int Columns { get; }

    /// <summary>The weight's shape when it was measured.</summary>
    public long[] WeightDims { get; }

    /// <summary>Columns between consecutive input channels (a Conv's kernel size; 1 otherwise): N:M groups run along channels.</summary>
    public int ChannelStride => kernel.Aggregate(1, (a, b) => a * b);

    /// <summary>
    /// A key equal for layers that see the same input rows (projections of one activation), so they
    /// share one second-moment matrix.
    /// </summary>
    public string InputKey => layout == WeightLayout.Conv
        ? $"{Input}|conv|{Groups}|{string.Join(',', kernel)}|{string.Join(',', strides)}|{string.Join(',', dilations)}|{string.Join(',', pads)}|{autoPad}"
        : $"{Input}|{(transposeInput ? "T" : "")}";

    /// <summary>
    /// Whether <paramref name="other"/> (a layer reading the same weight) sees the weight the same way:
    /// same layout and same input rows. A square weight read as MatMul's [K, N] and as Gemm's transposed
    /// [N, K] has its inputs and outputs swapped, so one H cannot serve both.
    /// </summary>
    public bool SameView(LayerGeometry other) => other.layout == layout && other.InputKey == InputKey;

    /// <summary>The flat index in the weight of element (row, column) of group <paramref name="group"/>.</summary>
    public long Index(int group, int row, int column) => layout switch
    {
        WeightLayout.InputsByOutputs => (long)column * Rows + row,
        WeightLayout.OutputsByInputs => (long)row * Columns + column,
        _ => ((long)group * Rows + row) * Columns + column,
    };

    /// <summary>
    /// The geometry of <paramref name="node"/> when it is a layer reconstruction handles: MatMul with a
    /// 2-D float weight as B, Gemm with a constant float B, Conv with 1 or 2 spatial axes; else null.
    /// </summary>
    public static LayerGeometry? Of(Node node)
    {
        if (node.Inputs.Count < 2 || node.Inputs[0] is not { } input || node.Inputs[1] is not { } weight
            || weight.ConstantTensor is not { DataType: DataType.Float } tensor || input.Initializer is not null)
        {
            return null;
        }

        var dims = tensor.Dims;
        if ((node.Is("MatMul") || (node.Is("Gemm") && node.GetInt("transB", 0) == 0)) && dims.Count == 2)
        {
            return new LayerGeometry(node, weight, input, WeightLayout.InputsByOutputs, 1, (int)dims[1], (int)dims[0]);
        }

        if (node.Is("Gemm") && dims.Count == 2)
        {
            return new LayerGeometry(node, weight, input, WeightLayout.OutputsByInputs, 1, (int)dims[0], (int)dims[1]);
        }

        if (node.Is("Conv") && dims.Count is 3 or 4)
        {
            var groups = (int)node.GetInt("group", 1);
            if (groups < 1 || dims[0] % groups != 0)
            {
                return null;
            }

            var columns = dims.Skip(1).Aggregate(1L, (a, b) => a * b);
            return new LayerGeometry(node, weight, input, WeightLayout.Conv, groups, (int)(dims[0] / groups), checked((int)columns));
        }

        return null;
    }

    /// <summary>
    /// Hands the input rows of one batch of the activation (shape, row-major values) to
    /// <paramref name="sink"/> as (group, rows [count, Columns], count), in chunks.
    /// </summary>
    public void ForEachRows(long[] shape, float[] values, Action<int, ReadOnlySpan<float>, int> sink)
    {
        if (layout == WeightLayout.Conv)
        {
            Patches(shape, values, sink);
            return;
        }

        if (shape.Length == 0 || values.Length % Columns != 0)
        {
            throw new ArgumentException($"an input of shape [{string.Join(",", shape)}] does not have {Columns} features per row");
        }

        var count = values.Length / Columns;
        if (!transposeInput)
        {
            sink(0, values, count);
            return;
        }

        // Gemm with transA = 1 reads A as [K, M]: its rows are the columns of the stored matrix.
        var rows = new float[values.Length];
        for (var k = 0; k < Columns; k++)
        {
            for (var m = 0; m < count; m++)
            {
                rows[m * Columns + k] = values[k * count + m];
            }
        }

        sink(0, rows, count);
    }

    /// <summary>
    /// Adds the input rows of one batch of the activation to <paramref name="moments"/> (one per group):
    /// a Conv builds its patches column by column (contiguous copies of input rows, no per-element index
    /// arithmetic) for <see cref="SecondMoment.AddColumns"/>, its groups in parallel; a MatMul or Gemm
    /// hands its rows to <see cref="SecondMoment.Add"/> as <see cref="ForEachRows"/> cuts them.
    /// </summary>
    public void Accumulate(long[] shape, float[] values, SecondMoment[] moments)
    {
        if (layout != WeightLayout.Conv)
        {
            ForEachRows(shape, values, (group, rows, count) => moments[group].Add(rows, count));
            return;
        }

        var conv = ConvShape(shape);
        var positionsPerChunk = Math.Max(1, PatchColumnsChunk / conv.OutW) * conv.OutW;
        void Group(int g)
        {
            var buffer = System.Buffers.ArrayPool<float>.Shared.Rent(Columns * positionsPerChunk);
            try
            {
                var outRows = conv.Batch * conv.OutH;
                var rowsPerChunk = positionsPerChunk / conv.OutW;
                for (var first = 0; first < outRows; first += rowsPerChunk)
                {
                    var rows = Math.Min(rowsPerChunk, outRows - first);
                    var count = rows * conv.OutW;
                    PatchColumns(conv, values, g, first, rows, buffer.AsSpan(0, Columns * count));
                    moments[g].AddColumns(buffer.AsSpan(0, Columns * count), count);
                }
            }
            finally
            {
                System.Buffers.ArrayPool<float>.Shared.Return(buffer);
            }
        }

        if (Groups == 1)
        {
            Group(0);
        }
        else
        {
            Parallel.For(0, Groups, Group);
        }
    }

    // Output positions per column-major chunk: each H entry sums this many products in float before
    // it is added in double.
    private const int PatchColumnsChunk = 1024;

    // Patches of group g for output rows [first, first + rows) of the batch (image-major, then oy),
    // column by column: column (c, ky, kx) holds input channel c at the kernel offset (ky, kx) for
    // each output position in order, 0 where the offset falls in the padding.
    private void PatchColumns(ConvDims conv, float[] values, int g, int first, int rows, Span<float> target)
    {
        var (kh, kw) = (conv.Kh, conv.Kw);
        var count = rows * conv.OutW;
        for (var c = 0; c < conv.PerGroup; c++)
        {
            for (var ky = 0; ky < kh; ky++)
            {
                for (var kx = 0; kx < kw; kx++)
                {
                    var column = target.Slice(((c * kh + ky) * kw + kx) * count, count);
                    // Output columns whose input column lies inside the image: [lo, hi).
                    var offset = kx * conv.Dw - conv.PadLeft;
                    var lo = offset >= 0 ? 0 : (-offset + conv.Sw - 1) / conv.Sw;
                    var hi = Math.Min(conv.OutW, conv.Width - 1 - offset < 0 ? 0 : (conv.Width - 1 - offset) / conv.Sw + 1);
                    for (var r = 0; r < rows; r++)
                    {
                        var (b, oy) = Math.DivRem(first + r, conv.OutH);
                        var line = column.Slice(r * conv.OutW, conv.OutW);
                        var y = oy * conv.Sh - conv.PadTop + ky * conv.Dh;
                        if (y < 0 || y >= conv.Height || lo >= hi)
                        {
                            line.Clear();
                            continue;
                        }

                        line[..lo].Clear();
                        line[hi..].Clear();
                        var source = values.AsSpan((int)(((long)b * conv.Channels + g * conv.PerGroup + c) * conv.Height * conv.Width + (long)y * conv.Width));
                        if (conv.Sw == 1)
                        {
                            source.Slice(lo + offset, hi - lo).CopyTo(line[lo..hi]);
                        }
                        else
                        {
                            for (var ox = lo; ox < hi; ox++)
                            {
                                line[ox] = source[ox * conv.Sw + offset];
                            }
                        }
                    }
                }
            }
        }
    }

    // A Conv input's sizes and the output's, 1-D taken as 2-D with height 1.
    private readonly record struct ConvDims(int Batch, int Channels, int PerGroup, int Height, int Width, int Kh, int Kw, int Sh, int Sw,
        int Dh, int Dw, int OutH, int OutW, int PadTop, int PadLeft);

    private ConvDims ConvShape(long[] shape)
    {
        var spatial = kernel.Length;
        if (shape.Length != spatial + 2)
        {
            throw new ArgumentException($"a Conv input of shape [{string.Join(",", shape)}] does not have {spatial} spatial axes");
        }

        int Dim(int[] source, int axis2D, int fallback) => spatial == 2 ? source[axis2D] : axis2D == 0 ? fallback : source[0];
        var (batch, channels) = ((int)shape[0], (int)shape[1]);
        var (height, width) = spatial == 2 ? ((int)shape[2], (int)shape[3]) : (1, (int)shape[2]);
        var (kh, kw) = (Dim(kernel, 0, 1), Dim(kernel, 1, 1));
        var (sh, sw) = (Dim(strides, 0, 1), Dim(strides, 1, 1));
        var (dh, dw) = (Dim(dilations, 0, 1), Dim(dilations, 1, 1));
        var (outH, padTop) = spatial == 2 ? Output(height, kh, sh, dh, pads[0], pads[2]) : (1, 0);
        var (outW, padLeft) = Output(width, kw, sw, dw, pads[spatial == 2 ? 1 : 0], pads[spatial == 2 ? 3 : 1]);
        var perGroup = channels / Groups;
        if (perGroup * kh * kw != Columns)
        {
            throw new ArgumentException($"a Conv input with {channels} channels does not match a weight of {Columns} inputs per group");
        }

        return new ConvDims(batch, channels, perGroup, height, width, kh, kw, sh, sw, dh, dw, outH, outW, padTop, padLeft);
    }

    // im2col over [B, C, (H,) W]: one row per (image, output position) and group, padded positions 0.
    private void Patches(long[] shape, float[] values, Action<int, ReadOnlySpan<float>, int> sink)
    {
        var (batch, channels, perGroup, height, width, kh, kw, sh, sw, dh, dw, outH, outW, padTop, padLeft) = ConvShape(shape);
        var positions = outH * outW;
        var buffer = new float[PatchChunk * Columns];
        for (var g = 0; g < Groups; g++)
        {
            for (var b = 0; b < batch; b++)
            {
                for (var start = 0; start < positions; start += PatchChunk)
                {
                    var count = Math.Min(PatchChunk, positions - start);
                    Array.Clear(buffer, 0, count * Columns);
                    for (var p = 0; p < count; p++)
                    {
                        var (oy, ox) = Math.DivRem(start + p, outW);
                        var row = buffer.AsSpan(p * Columns, Columns);
                        for (var c = 0; c < perGroup; c++)
                        {
                            var plane = ((long)b * channels + g * perGroup + c) * height * width;
                            for (var ky = 0; ky < kh; ky++)
                            {
                                var y = oy * sh - padTop + ky * dh;
                                if (y < 0 || y >= height)
                                {
                                    continue;
                                }

                                for (var kx = 0; kx < kw; kx++)
                                {
                                    var x = ox * sw - padLeft + kx * dw;
                                    if (x >= 0 && x < width)
                                    {
                                        row[(c * kh + ky) * kw + kx] = values[plane + (long)y * width + x];
                                    }
                                }
                            }
                        }
                    }

                    sink(g, buffer, count);
                }
            }
        }
    }

    // Output length and leading pad along one axis (ONNX Conv: explicit pads, or auto_pad SAME_UPPER/SAME_LOWER/VALID).
    private (int Length, int PadBegin) Output(int input, int k, int stride, int dilation, int padBegin, int padEnd)
    {
        var span = dilation * (k - 1) + 1;
        switch (autoPad)
        {
            case "SAME_UPPER" or "SAME_LOWER":
                var length = (input + stride - 1) / stride;
                var total = Math.Max(0, (length - 1) * stride + span - input);
                return (length, autoPad == "SAME_UPPER" ? total / 2 : total - total / 2);
            case "VALID":
                return ((input - span) / stride + 1, 0);
            default:
                return ((input + padBegin + padEnd - span) / stride + 1, padBegin);
        }
    }

    private static int[] Ints(Node node, string name, int count, int fallback) =>
        node.GetInts(name) is { } values && values.Count == count ? values.Select(v => (int)v).ToArray() : Enumerable.Repeat(fallback, count).ToArray();
}
