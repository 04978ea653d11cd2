using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Passes.Reconstruction.Layerwise;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Pruning.Channels.Refit;

/// <summary>
/// One layer that reads a group's channels (a Conv of group 1, a Gemm, a MatMul), as least squares sees
/// it: y = W·x + b over its current input columns x, whose second moment (with a constant 1 for the
/// bias) was measured on the teacher. Removing the columns R of some channels and solving the columns
/// K left (and the bias) for the output closest to today's is the optimal brain surgeon's step with
/// G = (H + λI)⁻¹: W_K −= W_R·(G_RR)⁻¹·G_RK, and the error it leaves is tr(W_R·(G_RR)⁻¹·W_Rᵀ). The
/// bias column takes its share, which folds the removed channels' mean into the bias.
/// </summary>
internal sealed class ConsumerFit
{
    private readonly ChannelSlice slice;
    private readonly bool biasColumn;
    private readonly int rows;
    private readonly int columns;
    private readonly int width;
    private readonly int stride;
    private readonly double[] w;
    private readonly double[] g;
    private readonly bool[] removed;
    private readonly Func<int, int, long> index;

    private ConsumerFit(ChannelSlice slice, LayerGeometry geometry, bool biasColumn, double[] w, double[] g, double energy)
    {
        this.slice = slice;
        this.biasColumn = biasColumn;
        (rows, columns, stride) = (geometry.Rows, geometry.Columns, geometry.ChannelStride);
        width = columns + (biasColumn ? 1 : 0);
        (this.w, this.g, Energy) = (w, g, energy);
        removed = new bool[width];
        index = (row, column) => geometry.Index(0, row, column);
    }

    /// <summary>The layer's output energy on the data, tr(W·H·Wᵀ): each layer's error is counted relative to it.</summary>
    public double Energy { get; }

    /// <summary>The node.</summary>
    public Node Node => slice.Node;

    /// <summary>
    /// The fit of the layer <paramref name="slice"/> cuts, from its statistics <paramref name="measured"/>
    /// whose columns are <paramref name="measuredColumns"/>[current column]; null when the layer is not
    /// one of group 1 or H + λI is singular.
    /// </summary>
    public static ConsumerFit? Create(ChannelSlice slice, CapturedLayer measured, IReadOnlyList<int> measuredColumns, bool mayAddBias, double dampening, CancellationToken cancellation)
    {
        if (LayerGeometry.Of(slice.Node) is not { Groups: 1 } geometry || geometry.Columns != measuredColumns.Count || measured.Moments.Length != 1)
        {
            return null;
        }

        var biasColumn = OutputBias(slice.Node, geometry.Rows, add: false) is not null || (mayAddBias && CanAddBias(slice.Node));
        var moment = measured.Moments[0];
        var lower = moment.Lower;
        var (n, full) = (geometry.Columns, moment.Width);
        var width = n + (biasColumn ? 1 : 0);

        // H over the current columns (and the constant 1: Σx per column, the number of rows).
        var h = new double[(long)width * width];
        for (var i = 0; i < n; i++)
        {
            var mi = measuredColumns[i];
            for (var j = 0; j <= i; j++)
            {
                var mj = measuredColumns[j];
                h[(long)i * width + j] = mi >= mj ? lower[(long)mi * full + mj] : lower[(long)mj * full + mi];
            }
        }

        if (biasColumn)
        {
            for (var j = 0; j < n; j++)
            {
                h[(long)n * width + j] = moment.Sums[measuredColumns[j]];
            }

            h[(long)n * width + n] = moment.Rows;
        }

        if (InverseFactor.Compute(h, width, dampening, cancellation) is not { } factor)
        {
            return null;
        }

        for (var i = 0; i < width; i++)
        {
            for (var j = 0; j < i; j++)
            {
                h[(long)j * width + i] = h[(long)i * width + j];
            }
        }

        var values = slice.Node.Inputs[1]!.ConstantTensor!.ToArray<float>();
        var w = new double[(long)geometry.Rows * width];
        for (var r = 0; r < geometry.Rows; r++)
        {
            for (var c = 0; c < n; c++)
            {
                w[(long)r * width + c] = values[geometry.Index(0, r, c)];
            }
        }

        return new ConsumerFit(slice, geometry, biasColumn, w, SymmetricMatrix.FromUpperFactor(factor, width), OutputEnergy(w, h, geometry.Rows, n, width));
    }

    /// <summary>The columns of input positions (channels as this layer's weight sees them) <paramref name="positions"/>.</summary>
    public int[] Columns(IEnumerable<long> positions) =>
        positions.SelectMany(p => Enumerable.Range((int)p * stride, stride)).Where(c => c < columns).ToArray();

    /// <summary>The output error (relative to <see cref="Energy"/>) left by removing <paramref name="cut"/> and refitting the rest.</summary>
    public double Error(int[] cut)
    {
        if (cut.Length == 0 || Inverse(cut) is not { } inverse)
        {
            return 0;
        }

        double error = 0;
        var k = cut.Length;
        var wr = new double[k];
        for (var r = 0; r < rows; r++)
        {
            for (var a = 0; a < k; a++)
            {
                wr[a] = w[(long)r * width + cut[a]];
            }

            for (var a = 0; a < k; a++)
            {
                double sum = 0;
                for (var b = 0; b < k; b++)
                {
                    sum += inverse[a * k + b] * wr[b];
                }

                error += wr[a] * sum;
            }
        }

        return Energy > 0 ? error / Energy : error;
    }

    /// <summary>Removes the columns <paramref name="cut"/> and moves their contribution onto the columns left and the bias.</summary>
    public void Remove(int[] cut)
    {
        cut = cut.Where(c => !removed[c]).Distinct().ToArray();
        if (cut.Length == 0 || Inverse(cut) is not { } inverse)
        {
            return;
        }

        var k = cut.Length;

        // T = W_R·(G_RR)⁻¹ [rows, k]; W −= T·G_R: and the bias column's share goes to the bias.
        Parallel.For(0, rows, r =>
        {
            var t = new double[k];
            for (var a = 0; a < k; a++)
            {
                double sum = 0;
                for (var b = 0; b < k; b++)
                {
                    sum += w[(long)r * width + cut[b]] * inverse[b * k + a];
                }

                t[a] = sum;
            }

            var row = w.AsSpan(r * width, width);
            for (var a = 0; a < k; a++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(g.AsSpan(cut[a] * width, width), -t[a], row, row);
            }
        });

        // G −= G_:R·(G_RR)⁻¹·G_R: (the inverse of H with the columns R gone, in the columns left).
        var gr = new double[k * width];
        for (var a = 0; a < k; a++)
        {
            for (var b = 0; b < k; b++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(g.AsSpan(cut[b] * width, width), inverse[a * k + b], gr.AsSpan(a * width, width), gr.AsSpan(a * width, width));
            }
        }

        var snapshot = cut.Select(c => Enumerable.Range(0, width).Select(i => g[(long)i * width + c]).ToArray()).ToArray();
        Parallel.For(0, width, i =>
        {
            var row = g.AsSpan(i * width, width);
            for (var a = 0; a < k; a++)
            {
                System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(gr.AsSpan(a * width, width), -snapshot[a][i], row, row);
            }
        });

        foreach (var c in cut)
        {
            removed[c] = true;
            for (var i = 0; i < width; i++)
            {
                g[(long)c * width + i] = g[(long)i * width + c] = 0;
            }

            for (var r = 0; r < rows; r++)
            {
                w[(long)r * width + c] = 0;
            }
        }
    }

    /// <summary>Writes the refit weights (and the bias shift) into the model; the removed columns are cut after by the plan.</summary>
    public void Write()
    {
        var tensor = slice.Node.Inputs[1]!.ConstantTensor!;
        var values = tensor.ToArray<float>();
        for (var r = 0; r < rows; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                values[index(r, c)] = (float)w[(long)r * width + c];
            }
        }

        WeightStore.ReplaceFor(slice.Node, 1, Tensor.FromArray<float>(tensor.Name, tensor.Dims.ToArray(), values));
        if (biasColumn && OutputBias(slice.Node, rows, add: true) is { } bias)
        {
            // The bias column's weight started at 0 (the bias itself is not in W): what it holds now is the shift.
            bias.Shift(r => w[(long)r * width + columns]);
        }
    }

    // (G_RR)⁻¹ for the columns `cut`.
    private double[]? Inverse(int[] cut)
    {
        var k = cut.Length;
        var block = new double[k * k];
        for (var a = 0; a < k; a++)
        {
            for (var b = 0; b < k; b++)
            {
                block[a * k + b] = g[(long)cut[a] * width + cut[b]];
            }
        }

        return SymmetricMatrix.Inverse(block, k);
    }

    // tr(W·H·Wᵀ) over the weight columns (the bias column holds no weight yet).
    private static double OutputEnergy(double[] w, double[] h, int rows, int n, int width)
    {
        double energy = 0;
        var hw = new double[n];
        for (var r = 0; r < rows; r++)
        {
            var row = w.AsSpan(r * width, n);
            for (var i = 0; i < n; i++)
            {
                hw[i] = System.Numerics.Tensors.TensorPrimitives.Dot(h.AsSpan(i * width, n), row);
            }

            energy += System.Numerics.Tensors.TensorPrimitives.Dot(row, hw);
        }

        return energy;
    }

    // The layer's bias along its output channels; with `add`, a Conv or Gemm without one gets a zero bias.
    private static Bias? OutputBias(Node node, int channels, bool add)
    {
        if (node.Outputs[0] is not { } output)
        {
            return null;
        }

        var (rank, axis) = BiasAxis(node);
        var found = LayerBias.Find(output, channels, rank, axis);
        if (found is not null || !add || !LayerBias.CanAdd(node, rank, axis))
        {
            return found;
        }

        LayerBias.AddZero(node, channels);
        return LayerBias.Find(output, channels, rank, axis);
    }

    private static bool CanAddBias(Node node)
    {
        var (rank, axis) = BiasAxis(node);
        return LayerBias.CanAdd(node, rank, axis);
    }

    // The output's rank and channel axis: Conv's axis 1, the last axis of a Gemm or MatMul.
    private static (int Rank, int Axis) BiasAxis(Node node)
    {
        var rank = node.Is("Conv") ? node.Inputs[1]!.ConstantTensor!.Dims.Count : node.Outputs[0] is { } output ? ChannelShapes.Of(output)?.Length ?? 2 : 2;
        return (rank, node.Is("Conv") ? 1 : rank - 1);
    }
}
