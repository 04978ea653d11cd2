using ModelShrink.Core.Gpu;
using ModelShrink.Core.Plans;
using ModelShrink.Core.Benchmarking;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Core.Search;

/// <summary>One GPU candidate: its mode, file, job (validated on CUDA) and latency beside the original on CUDA.</summary>
/// <param name="Mode">Fp16, Int4 or None (float32).</param>
/// <param name="File">The file written.</param>
/// <param name="Result">The job, its validation run on CUDA.</param>
/// <param name="Latency">Its latency and the original's, both on CUDA, interleaved; placement of its nodes.</param>
public sealed record GpuCandidate(QuantizeMode Mode, string File, JobResult Result, BenchmarkResult Latency)
{
    /// <summary>Whether every budget held.</summary>
    public bool Fits => !Result.Failed;
}

/// <summary>The CUDA variant chosen by measurement, and every candidate tried.</summary>
/// <param name="Chosen">The candidate the CUDA variant is made of.</param>
/// <param name="Candidates">Every candidate, in the order tried.</param>
/// <param name="Reason">One sentence on why.</param>
public sealed record GpuChoice(GpuCandidate Chosen, IReadOnlyList<GpuCandidate> Candidates, string Reason);

/// <summary>
/// Chooses the CUDA variant on the GPU: fp16 (with its range check and block search, validated on
/// CUDA, where float16 is really computed), int4 MatMulNBits (it has a CUDA kernel; only when the
/// model has MatMul weights and the app's ONNX Runtime runs it) and float32. Each is validated on the
/// CUDA provider against the item's accuracy budgets (the reference is the original on the CPU) and
/// timed beside the original on CUDA; among those within the budgets the fastest wins (the smaller
/// on a tie within 3%), as the CPU side's Auto search prefers a faster candidate.
/// </summary>
public static class GpuVariantChoice
{
    /// <summary>Medians closer than this (as a ratio) count as a tie, decided by size.</summary>
    public const double TieRatio = 1.03;

    /// <summary>
    /// Runs the candidates into <paramref name="folder"/> and chooses; <paramref name="provider"/> is
    /// CUDA but for the CPU-side tests of the choice itself.
    /// </summary>
    public static GpuChoice Choose(string source, string folder, JobSettings settings, string display, CancellationToken cancellation, IProgress<string>? progress,
        RunProvider provider = RunProvider.CUDA)
    {
        var modes = new List<QuantizeMode> { QuantizeMode.Fp16 };
        if (settings.Compression.MatMulNBitsAllowed && HasMatMulWeights(source))
        {
            modes.Add(QuantizeMode.Int4);
        }

        modes.Add(QuantizeMode.None);
        var candidates = new List<GpuCandidate>();
        foreach (var mode in modes)
        {
            cancellation.ThrowIfCancellationRequested();
            progress?.Report($"GPU variant: {mode} on {provider} (candidate {candidates.Count + 1} of {modes.Count})");
            var file = Path.Combine(folder, $"cuda-{mode.ToString().ToLowerInvariant()}.onnx");
            var candidateSettings = settings.WithoutSizeBudgets() with
            {
                Compression = settings.Compression with { Quantize = mode },
                Validation = settings.Validation with { Provider = provider },
                MaxLatencyRatio = null,
                HintBetterSettings = false,
            };
            var job = CompressionRun.Run(source, file, candidateSettings, $"{display} ({provider} {mode})", cancellation, progress);
            var latency = LatencyBenchmark.BesideOriginal(file, source, settings.Holdout, provider);
            candidates.Add(new GpuCandidate(mode, file, job, latency));
        }

        var fitting = candidates.Where(c => c.Fits).ToList();
        var chosen = fitting.Count == 0 ? candidates[0] : fitting.Aggregate((best, c) => Better(c, best) ? c : best);
        return new GpuChoice(chosen, candidates, Reason(chosen, candidates, provider.OrtName()));
    }

    /// <summary>The warnings a candidate's node placement calls for (most kernel time on the CPU).</summary>
    public static IEnumerable<Diagnostic> PlacementWarnings(GpuCandidate candidate, string file)
    {
        if (candidate.Latency.Placement is { MostlyOnCpu: true } placement)
        {
            yield return new Diagnostic(ErrorCodes.GpuComputeOnCpu,
                $"the CUDA variant ({candidate.Mode}) spends most of its kernel time on the CPU: {placement.Describe()}; those ops have no CUDA kernel for this precision",
                file, "Providers", DiagnosticSeverity.Warning);
        }
    }

    // Faster by more than the tie ratio wins; within it, the smaller file.
    private static bool Better(GpuCandidate c, GpuCandidate best)
    {
        double a = c.Latency.Model.MedianMs, b = best.Latency.Model.MedianMs;
        return a * TieRatio < b || (a <= b * TieRatio && c.Result.Compression.CompressedBytes < best.Result.Compression.CompressedBytes);
    }

    private static string Reason(GpuCandidate chosen, List<GpuCandidate> candidates, string provider)
    {
        var figures = string.Join("; ", candidates.Select(c =>
            $"{c.Mode} {c.Latency.Model.MedianMs:0.###} ms (original {c.Latency.Baseline!.MedianMs:0.###} ms){(c.Result.Validation is { } v ? $", {v.Metric} {v.Value:0.####}" : "")}{(c.Fits ? "" : ", over budget")}"));
        return chosen.Fits
            ? $"CUDA variant {chosen.Mode}: the fastest within the budgets on {provider} ({figures})"
            : $"CUDA variant {chosen.Mode}: no candidate met the budgets on {provider} ({figures})";
    }

    private static bool HasMatMulWeights(string source)
    {
        var model = ModelReader.Load(source);
        return model.Graph.Nodes.Any(n => n.Is("MatMul") && n.Inputs.Count > 1 && n.Inputs[1] is { IsWeight: true } w && w.ConstantTensor?.Dims.Count == 2);
    }
}
