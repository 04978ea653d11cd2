using System.Collections.Concurrent;
using ModelShrink.Core.Quantization;

namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>What a pruning pass asks of <see cref="LayerwiseReconstruction.Prune"/>: a number of zeros, or N of every M kept.</summary>
/// <param name="Zeros">Weights to zero in all (unstructured), when <paramref name="M"/> is 0.</param>
/// <param name="N">Weights kept in each group (N:M).</param>
/// <param name="M">Group size (N:M), 0 for unstructured.</param>
public readonly record struct PruneRequest(long Zeros, int N = 0, int M = 0);

/// <summary>
/// The teacher's layer statistics, left in the <see cref="PassContext"/> by
/// <see cref="CaptureLayerInputsPass"/> for the passes after it: the pruning pass asks it to choose
/// and compensate zeros (SparseGPT), the quantizers hand it each weight with the grid they chose
/// (GPTQ). Layers it did not measure, or whose weight changed shape since, are left to the passes'
/// own rounding and selection.
/// </summary>
public sealed class LayerwiseReconstruction : IWeightRounding, IDisposable
{
    private readonly Dictionary<string, CapturedLayer> layers;
    private readonly ConcurrentDictionary<string, byte> quantized = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> pruned = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> failed = new(StringComparer.Ordinal);

    /// <summary>Counter of the quantization passes: weights GPTQ rounded.</summary>
    public const string WeightsReconstructed = IWeightRounding.WeightsRounded;

    /// <summary>Counter of the pruning pass: layers (weights) SparseGPT pruned.</summary>
    public const string LayersPruned = "layers pruned by SparseGPT";

    private readonly string? spillFolder;

    internal LayerwiseReconstruction(LayerwiseOptions options, IEnumerable<CapturedLayer> captured, string? spillFolder = null)
    {
        this.spillFolder = spillFolder;
        Options = options;
        layers = captured.ToDictionary(l => l.Geometry.Weight, StringComparer.Ordinal);
    }

    /// <summary>The options.</summary>
    public LayerwiseOptions Options { get; }

    /// <summary>Weights measured.</summary>
    public int LayerCount => layers.Count;

    /// <summary>Weights GPTQ rounded so far.</summary>
    public IReadOnlyCollection<string> Quantized => quantized.Keys.ToArray();

    /// <summary>Weights SparseGPT pruned so far.</summary>
    public IReadOnlyCollection<string> Pruned => pruned.Keys.ToArray();

    /// <summary>Weights left to plain rounding or selection because H + λI stayed singular.</summary>
    public IReadOnlyCollection<string> Failed => failed.Keys.ToArray();

    /// <summary>The statistics measured for <paramref name="weight"/>, whatever its shape now; else null.</summary>
    internal CapturedLayer? Measured(string weight) => layers.GetValueOrDefault(weight);

    /// <summary>
    /// Lets <paramref name="name"/> stand for the measured weight <paramref name="measured"/>: a pass
    /// that rewrites a weight under a new name without changing what the layer reads (batch-norm folding
    /// scales output rows) keeps its reconstruction. Nothing happens when <paramref name="measured"/>
    /// was not measured.
    /// </summary>
    /// <remarks>Called before quantizing, on the pipeline's thread: nothing reads the layers meanwhile.</remarks>
    public void Alias(string name, string measured)
    {
        if (layers.TryGetValue(measured, out var layer))
        {
            layers[name] = layer;
        }
    }

    /// <summary>Whether <paramref name="weight"/> of shape <paramref name="dims"/> was measured.</summary>
    public bool Covers(string weight, IReadOnlyList<long> dims) => layers.TryGetValue(weight, out var layer) && layer.Matches(dims);

    /// <summary>
    /// The GPTQ adjuster for a weight a quantizer is about to round, or null when the weight was not
    /// measured (a subgraph's, a shape changed by channel pruning).
    /// </summary>
    WeightAdjuster? IWeightRounding.For(string weight, IReadOnlyList<long> dims, CancellationToken cancellation) => Quantizer(weight, dims, cancellation);

    /// <inheritdoc/>
    IReadOnlyCollection<string> IWeightRounding.Rounded => Quantized;

    /// <summary>The GPTQ adjuster for <paramref name="weight"/>, or null when its layer was not measured (or does not match <paramref name="dims"/>).</summary>
    public WeightAdjuster? Quantizer(string weight, IReadOnlyList<long> dims, CancellationToken cancellation = default)
    {
        if (!layers.TryGetValue(weight, out var layer) || !layer.Matches(dims))
        {
            return null;
        }

        var geometry = layer.Geometry;
        return (values, grid) =>
        {
            var frozen = Options.KeepZeros ? new bool[(long)geometry.Rows * geometry.Columns] : null;
            return EachGroup(weight, layer, values.Span, Options.ActOrder, quantized, (group, order, factor, w) =>
            {
                if (frozen is not null)
                {
                    for (var i = 0; i < w.Length; i++)
                    {
                        frozen[i] = w[i] == 0f;
                    }
                }

                Gptq.Run(w, geometry.Rows, geometry.Columns, factor,
                    (r, c, v) => grid.Snap(geometry.Index(group, r, order[c]), v), frozen, cancellation);
            }, cancellation);
        };
    }

    /// <summary>
    /// Prunes <paramref name="values"/> (the weight before pruning) as <paramref name="request"/> says
    /// with SparseGPT, or returns null when the weight was not measured or H stayed singular.
    /// </summary>
    public float[]? Prune(string weight, IReadOnlyList<long> dims, ReadOnlySpan<float> values, PruneRequest request, CancellationToken cancellation = default)
    {
        if (!layers.TryGetValue(weight, out var layer) || !layer.Matches(dims))
        {
            return null;
        }

        var geometry = layer.Geometry;
        return EachGroup(weight, layer, values, actOrder: false, pruned, (group, _, factor, w) =>
        {
            if (request.M > 0)
            {
                SparseGpt.NOfM(w, geometry.Rows, geometry.Columns, factor, request.N, request.M, geometry.ChannelStride, cancellation);
            }
            else
            {
                // Each group takes its share of the count; shares of a cumulative count keep the total exact.
                var zeros = SparseGpt.Share(request.Zeros, group + 1, geometry.Groups) - SparseGpt.Share(request.Zeros, group, geometry.Groups);
                SparseGpt.Unstructured(w, geometry.Rows, geometry.Columns, factor, zeros, cancellation);
            }
        }, cancellation);
    }

    // What GPTQ and SparseGPT share around their sweep: per group, the factor (none: the weight goes
    // to `failed` and keeps plain rounding or selection), the group's view, the sweep, and the view
    // written back into a copy of the weight; the weight then joins `done`.
    private float[]? EachGroup(string weight, CapturedLayer layer, ReadOnlySpan<float> values, bool actOrder, ConcurrentDictionary<string, byte> done,
        Action<int, int[], float[], float[]> sweep, CancellationToken cancellation)
    {
        var geometry = layer.Geometry;
        var result = values.ToArray();
        for (var g = 0; g < geometry.Groups; g++)
        {
            var (order, factor) = layer.Factor(g, actOrder, Options.Dampening, cancellation);
            if (factor is null)
            {
                failed.TryAdd(weight, 0);
                return null;
            }

            var w = View(values, geometry, g, order);
            sweep(g, order, factor, w);
            WriteBack(w, result, geometry, g, order);
        }

        done.TryAdd(weight, 0);
        return result;
    }

    // Group g of the weight as row-major [Rows, Columns] with its columns in `order`.
    private static float[] View(ReadOnlySpan<float> values, LayerGeometry geometry, int group, int[] order)
    {
        var w = new float[(long)geometry.Rows * geometry.Columns];
        for (var r = 0; r < geometry.Rows; r++)
        {
            for (var c = 0; c < geometry.Columns; c++)
            {
                w[r * geometry.Columns + c] = values[(int)geometry.Index(group, r, order[c])];
            }
        }

        return w;
    }

    private static void WriteBack(float[] w, float[] result, LayerGeometry geometry, int group, int[] order)
    {
        for (var r = 0; r < geometry.Rows; r++)
        {
            for (var c = 0; c < geometry.Columns; c++)
            {
                result[geometry.Index(group, r, order[c])] = w[r * geometry.Columns + c];
            }
        }
    }

    /// <summary>Deletes the files matrices past the memory budget were moved to.</summary>
    public void Dispose()
    {
        if (spillFolder is not null && Directory.Exists(spillFolder))
        {
            Directory.Delete(spillFolder, recursive: true);
        }
    }
}
