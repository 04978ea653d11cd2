using ModelShrink.Core.Passes.Pruning.Channels;
using ModelShrink.Core.Passes.Reconstruction.Layerwise;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Pruning;

/// <summary>
/// The <c>prune</c> pass: magnitude, N:M or structured channel pruning of Conv, Gemm and MatMul
/// weights (and Gather tables on request), in every graph. It runs after the clean-up and before
/// any quantization, so quantization scales see the pruned weights. Which layers are pruned:
/// <see cref="LayerSelection"/>; how zeros are stored on disk: <see cref="SparseStoragePass"/>,
/// the last pass of the pipeline.
/// <para>
/// Counters (magnitude, N:M): layers pruned / kept (first/last) / skipped (by name) / below min
/// size / left dense (N:M), weights zeroed, weights and zeros in pruned layers, weights and zeros in
/// all layers. Channels: see <see cref="ChannelPruner"/>.
/// </para>
/// </summary>
public sealed class PrunePass : IPass
{
    private readonly PruneOptions options;

    /// <summary>Creates the pass; the options are checked here (MSH2400).</summary>
    public PrunePass(PruneOptions options)
    {
        options.Validate();
        this.options = options;
    }

    /// <inheritdoc />
    public string Name => "prune";

    /// <inheritdoc />
    public IReadOnlyList<PassData> Uses => [SharedPassData.LayerStatistics];

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        if (options.Method == PruneMethod.Channels)
        {
            return new ChannelPruner(options).Run(model, context);
        }

        if (options.Method == PruneMethod.NM && options.Sparsity != PruneOptions.DefaultSparsity && Math.Abs(options.Sparsity - options.TargetSparsity) > 1e-9)
        {
            context.Warn(ErrorCodes.PruneSparsityIgnored,
                $"{options.ModeText} makes every pruned layer {options.TargetSparsity:0.###} sparse; the sparsity {options.Sparsity:0.###} given was ignored", "Sparsity");
        }

        var selection = LayerSelection.Select(model, options, context, options.IncludeGather);
        var originals = selection.Targets.ToDictionary(t => t, t => t.Layer.Tensor);
        var buffers = selection.Targets.ToDictionary(t => t, t => new WeightBuffer(t.Layer.Tensor));
        var zerosBefore = buffers.Values.Sum(b => b.CountZeros());
        long leftDense = 0;
        if (options.Method == PruneMethod.NM)
        {
            leftDense = PruneNm(selection, buffers, context);
        }
        else
        {
            PruneMagnitude(buffers, context.Cancellation);
        }

        var reconstructed = Reconstruct(buffers, originals, context);
        foreach (var (target, buffer) in buffers)
        {
            WeightStore.Replace(target.Layer.Weight, reconstructed.GetValueOrDefault(target) ?? buffer.ToTensor());
        }

        var zeros = buffers.Values.Sum(b => b.CountZeros());
        var prunedLayers = buffers.Keys.Select(t => t.Layer).ToHashSet();
        var untouched = selection.All.Where(l => !prunedLayers.Contains(l)).ToList();
        var counters = new Dictionary<string, long>
        {
            ["layers pruned"] = buffers.Count,
            ["layers kept (first/last)"] = selection.KeptAtEnds,
            ["layers skipped (by name)"] = selection.SkippedByName,
            ["layers below min size"] = selection.BelowMinSize,
            ["layers left dense (N:M)"] = leftDense,
            ["weights zeroed"] = zeros - zerosBefore,
            ["weights in pruned layers"] = buffers.Values.Sum(b => (long)b.Length),
            ["zeros in pruned layers"] = zeros,
            ["weights in all layers"] = selection.All.Sum(l => l.Size),
            ["zeros in all layers"] = zeros + untouched.Sum(l => new WeightBuffer(l.Tensor).CountZeros()),
        };
        if (context.Get(SharedPassData.LayerStatistics) is not null)
        {
            counters[LayerwiseReconstruction.LayersPruned] = reconstructed.Count;
        }

        if (buffers.Count == 0)
        {
            context.Warn(ErrorCodes.PruneNothingPruned,
                $"no layer was pruned ({selection.All.Count} prunable layer(s): {selection.KeptAtEnds} kept at the ends, {selection.SkippedByName} skipped by name, {selection.BelowMinSize} below {options.MinLayerSize} weights{(leftDense > 0 ? $", {leftDense} not divisible by {options.M}" : "")})");
        }

        return new PassResult(counters["weights zeroed"] > 0, counters);
    }

    // With layer statistics measured before this pass (Reconstruct=Layerwise), SparseGPT re-chooses
    // each float32 layer's zeros, as many as the magnitude selection made (or the same N:M pattern),
    // by saliency on the data, and compensates them in the weights kept.
    private Dictionary<LayerTarget, Tensor> Reconstruct(Dictionary<LayerTarget, WeightBuffer> buffers, Dictionary<LayerTarget, Tensor> originals, PassContext context)
    {
        if (context.Get(SharedPassData.LayerStatistics) is not { } layerwise)
        {
            return [];
        }

        var covered = buffers.Where(b => originals[b.Key] is { DataType: DataType.Float } original && b.Key.Layer.Kind != LayerKind.Gather
            && layerwise.Covers(b.Key.Layer.Weight.Name, original.Dims)).ToArray();

        // Layers are independent (each has its own H): in parallel, each also parallel over its rows.
        var result = new System.Collections.Concurrent.ConcurrentDictionary<LayerTarget, Tensor>();
        Parallel.ForEach(covered, new ParallelOptions { CancellationToken = context.Cancellation }, pair =>
        {
            var (target, buffer) = pair;
            var original = originals[target];
            var request = options.Method == PruneMethod.NM ? new PruneRequest(0, options.N, options.M) : new PruneRequest(buffer.CountZeros());
            if (layerwise.Prune(target.Layer.Weight.Name, original.Dims, original.ToArray<float>(), request, context.Cancellation) is { } values)
            {
                result[target] = Tensor.FromArray<float>(original.Name, original.Dims.ToArray(), values);
            }
        });
        return new Dictionary<LayerTarget, Tensor>(result);
    }

    // One threshold per layer, or one for every layer without an explicit sparsity (global scope).
    private void PruneMagnitude(Dictionary<LayerTarget, WeightBuffer> buffers, CancellationToken cancellation)
    {
        var pooled = options.Scope == PruneScope.Global ? buffers.Where(p => !p.Key.Explicit).ToList() : [];
        foreach (var (target, buffer) in buffers.Except(pooled))
        {
            MagnitudeSelection.ZeroSmallest([buffer], Count(target.Sparsity, buffer.Length), cancellation);
        }

        if (pooled.Count > 0)
        {
            var total = pooled.Sum(p => (long)p.Value.Length);
            MagnitudeSelection.ZeroSmallest(pooled.Select(p => p.Value).ToList(), Count(options.Sparsity, total), cancellation);
        }
    }

    // Layers whose reduction length is not a multiple of M stay dense (MSH2403) and leave the list.
    private long PruneNm(SelectedLayers selection, Dictionary<LayerTarget, WeightBuffer> buffers, PassContext context)
    {
        var notDivisible = new List<string>();
        foreach (var (target, buffer) in buffers.ToList())
        {
            var dims = target.Layer.Tensor.Dims;
            if (!NmSelection.Divisible(dims, target.Layer.ReductionAxis, options.M))
            {
                notDivisible.Add($"{target.Layer.Name} ({dims[target.Layer.ReductionAxis]} along axis {target.Layer.ReductionAxis})");
                buffers.Remove(target);
                continue;
            }

            NmSelection.Prune(buffer, dims, target.Layer.ReductionAxis, options.N, options.M, context.Cancellation);
        }

        if (notDivisible.Count > 0)
        {
            context.Warn(ErrorCodes.PruneNmNotDivisible,
                $"{options.ModeText}: the reduction length of {notDivisible.Count} layer(s) is not a multiple of {options.M}; left dense: {LayerSelection.List(notDivisible)}");
        }

        return notDivisible.Count;
    }

    /// <summary>Weights to zero for a sparsity: rounded to the nearest whole weight.</summary>
    internal static long Count(double sparsity, long size) => (long)Math.Round(sparsity * size, MidpointRounding.AwayFromZero);
}
