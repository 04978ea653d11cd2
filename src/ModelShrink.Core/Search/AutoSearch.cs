using ModelShrink.Shared;
using ModelShrink.Core.Benchmarking;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Plans;
using ModelShrink.Onnx.Diagnostics;

namespace ModelShrink.Core.Search;

/// <summary>
/// Quantize = Auto: the smallest model within every budget, chosen by measurement. It measures the
/// plain modes (int4, int8, int8 static when calibration data of its own is named), then a mixed
/// plan with every layer at its smallest precision (int4 MatMuls beside int8 Convs); when that
/// misses the accuracy budget it measures each layer's sensitivity at each precision
/// (<see cref="SensitivityAnalysis"/>), orders the mixed plans by error removed per byte added
/// (<see cref="PlanChain"/>) and bisects that chain on the holdout for the first plan that holds,
/// among those that could beat the best plain mode. A candidate that misses only the accuracy
/// budget is retried with layer-wise reconstruction where reconstruction data of its own allows.
/// Of every candidate that fits, the smallest wins, unless it runs slower than the original (by
/// more than <see cref="SlowerThanOriginal"/>) while a larger one does not; then that one.
/// Without holdout data nothing can be measured but size, so only the robust modes compete (int8
/// per channel, fp16; int4 only when they break the size budget), with warning MSH4104.
/// </summary>
public static class AutoSearch
{
    /// <summary>A latency ratio above this counts as slower than the original (the margin is this machine's noise between interleaved runs).</summary>
    public const double SlowerThanOriginal = 1.10;

    /// <summary>A slowdown smaller than this per run (milliseconds) is not "slower", whatever its ratio: on a tiny model timer noise is larger.</summary>
    public const double NoticeableMs = 0.1;

    /// <summary>At most this many layers (the largest) get their sensitivity measured.</summary>
    public const int MaxMeasuredLayers = 96;

    /// <summary>Runs the search; the winner is written to <paramref name="output"/>, every candidate tried is in the result's <see cref="JobResult.Candidates"/>.</summary>
    public static JobResult Run(string source, string output, JobSettings settings, string display, CancellationToken cancellation = default, IProgress<string>? progress = null)
    {
        using var session = new SearchSession(output, source, settings, display, cancellation, progress);
        var inventory = LayerInventory.Read(source, settings.Compression, cancellation);
        var validated = settings.Holdout is not null;
        // Plain Int4 quantizes MatMuls only (as ONNX Runtime's tool does); int4 Convs come with the mixed plans.
        var hasInt4 = inventory.Layers.Any(l => l.OpType == "MatMul" && l.Ladder[0] == LayerPrecision.Int4);
        IReadOnlyList<LayerSensitivity> sensitivity = [];
        if (validated)
        {
            QuantizeMode[] modes = [.. hasInt4 ? [QuantizeMode.Int4] : Array.Empty<QuantizeMode>(), QuantizeMode.Int8, .. HasOwnCalibration(settings) ? [QuantizeMode.Int8Static] : Array.Empty<QuantizeMode>()];
            session.Planned = modes.Length + 1 + SensitivityAnalysis.ProbeCount(Measured(inventory)) + 2 + (int)Math.Ceiling(Math.Log2(Math.Max(2, inventory.Layers.Count * 2)));
            Plain(session, modes);

            if (!session.OutOfTime && inventory.Layers.Count > 0)
            {
                sensitivity = Mixed(session, inventory);
            }

            // Fp16 and None are larger than any int8 model: measured only when nothing smaller fits.
            foreach (var mode in new[] { QuantizeMode.Fp16, QuantizeMode.None }.TakeWhile(_ => !Fitting(session).Any() && !session.OutOfTime))
            {
                Single(session, mode);
            }
        }
        else
        {
            session.Planned = 2;
            foreach (var mode in new[] { QuantizeMode.Int8, QuantizeMode.Fp16, QuantizeMode.Int4, QuantizeMode.None })
            {
                if (Fitting(session).Any() || (mode == QuantizeMode.Int4 && !hasInt4))
                {
                    continue;
                }

                Single(session, mode);
            }
        }

        return Choose(session, inventory, output, sensitivity);
    }

    // The plain modes side by side, then each that misses only the accuracy budget retried with
    // layer-wise reconstruction.
    private static void Plain(SearchSession session, IReadOnlyList<QuantizeMode> modes)
    {
        var options = modes.Select(mode => session.Settings.Compression with { Quantize = mode, Plan = null }).ToArray();
        var outcomes = session.Candidates(options.Select(o => (o, CandidateLabel.Of(o, reconstructionVaries: ReconstructionChoice.MayAdd(session.Settings)))).ToArray());
        for (var i = 0; i < outcomes.Count && !session.OutOfTime; i++)
        {
            if (!outcomes[i].Fits && outcomes[i].Applies && OnlyAccuracyFailed(outcomes[i].Result) && ReconstructionChoice.Layerwise(session.Settings, options[i]) is { } reconstructed)
            {
                session.Candidate(reconstructed, CandidateLabel.Of(reconstructed, reconstructionVaries: true));
            }
        }
    }

    // A plain mode, retried with layer-wise reconstruction when it misses only the accuracy budget.
    private static void Single(SearchSession session, QuantizeMode mode)
    {
        var options = session.Settings.Compression with { Quantize = mode, Plan = null };
        var outcome = session.Candidate(options, CandidateLabel.Of(options, reconstructionVaries: ReconstructionChoice.MayAdd(session.Settings)));
        if (!outcome.Fits && outcome.Applies && OnlyAccuracyFailed(outcome.Result) && ReconstructionChoice.Layerwise(session.Settings, options) is { } reconstructed && !session.OutOfTime)
        {
            session.Candidate(reconstructed, CandidateLabel.Of(reconstructed, reconstructionVaries: true));
        }
    }

    // The mixed plans: the smallest first; when it misses the accuracy budget, the chain ordered by
    // measured sensitivity, bisected between it and the largest plan that could still beat the best
    // fitting candidate so far.
    private static IReadOnlyList<LayerSensitivity> Mixed(SearchSession session, LayerInventory inventory)
    {
        var best = Fitting(session).Select(c => (double?)c.Result.Compression.CompressedBytes).Min() ?? double.PositiveInfinity;
        var smallest = inventory.Layers.ToDictionary(l => l.Name, l => l.Ladder[0]);
        if (inventory.EstimateBytes(smallest) >= best)
        {
            return [];
        }

        var first = Plan(session, inventory, smallest);
        if (first.Fits || !OnlyAccuracyFailed(first.Result) || session.OutOfTime)
        {
            return [];
        }

        session.Step("measuring each layer's sensitivity");
        // The largest layers are measured; the rest (small, so cheap to keep float) count as too
        // sensitive to take less than float, which bounds the probes on a model with hundreds of layers.
        var sensitivity = SensitivityAnalysis.Measure(session.Source, session.Folder, session.Settings, Measured(inventory), session.Display, session.Cancellation,
            probe => session.Step($"sensitivity of {probe}"));
        var chain = PlanChain.Build(inventory.Layers, sensitivity, session.Settings.Compression.Int4.BlockSize);
        // The last plan of the chain is all float (the original): the search's own None covers it.
        var high = chain.Count - 2;
        while (high > 0 && inventory.EstimateBytes(chain.Plan(high)) >= best)
        {
            high--;
        }

        if (high <= 0 || session.OutOfTime || !Plan(session, inventory, chain.Plan(high)).Fits)
        {
            return sensitivity;
        }

        // Invariant: plan `low` misses the accuracy budget, plan `high` fits.
        var low = 0;
        while (high - low > 1 && !session.OutOfTime)
        {
            var middle = (low + high) / 2;
            var outcome = Plan(session, inventory, chain.Plan(middle));
            if (outcome.Fits)
            {
                high = middle;
            }
            else if (OnlyAccuracyFailed(outcome.Result))
            {
                low = middle;
            }
            else
            {
                break;
            }
        }

        return sensitivity;
    }

    // The layers whose sensitivity is measured: the largest, at most MaxMeasuredLayers.
    private static PlanLayer[] Measured(LayerInventory inventory) =>
        inventory.Layers.OrderByDescending(l => l.Weights).Take(MaxMeasuredLayers).ToArray();

    // One mixed plan as a candidate, with layer-wise reconstruction where the search may add it.
    private static CandidateOutcome Plan(SearchSession session, LayerInventory inventory, IReadOnlyDictionary<string, LayerPrecision> plan)
    {
        // Every layer named and no mode of its own: each precision's pass gets exactly its layers (an
        // own-mode pass left with no layer would warn that it quantized nothing).
        var options = session.Settings.Compression with { Quantize = QuantizeMode.None, Plan = new LayerPlan(plan) };
        options = ReconstructionChoice.Layerwise(session.Settings, options) ?? options;
        var name = CandidateLabel.Of(options, PlanTable.For(inventory, options), ReconstructionChoice.MayAdd(session.Settings));
        return session.Candidate(options, name);
    }

    private static IEnumerable<CandidateOutcome> Fitting(SearchSession session) => session.Tried.Where(c => c.Fits && c.Applies);

    private static bool HasOwnCalibration(JobSettings settings) =>
        settings.Compression.Int8Static is { CalibrationData: not null, CalibrationFromHoldout: false };

    private static bool OnlyAccuracyFailed(JobResult job) =>
        job.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).All(d => AccuracyBudget.Settings.Contains(d.Setting));

    // The smallest fitting candidate whose latency is not worse than the original's (measured here,
    // finalists only, smallest first), else the smallest within MaxLatencyRatio.
    private static JobResult Choose(SearchSession session, LayerInventory inventory, string output, IReadOnlyList<LayerSensitivity> sensitivity)
    {
        var settings = session.Settings;
        CandidateOutcome? pick = null, slower = null;
        foreach (var candidate in Fitting(session).OrderBy(c => c.Result.Compression.CompressedBytes).ThenBy(c => c.Result.Validation is { } v ? AccuracyBudget.Drop(v) : 0).ToArray())
        {
            session.Step($"latency of {candidate.Name}");
            var latency = Latency(session, candidate);
            var measured = candidate with { LatencyRatio = latency?.Ratio };
            session.Tried[session.Tried.IndexOf(candidate)] = measured;
            if (settings.MaxLatencyRatio is { } max && (latency is null || measured.LatencyRatio > max))
            {
                continue;
            }

            if (latency is null || measured.LatencyRatio <= SlowerThanOriginal || latency.Model.MedianMs - latency.Baseline!.MedianMs < NoticeableMs)
            {
                pick = measured;
                break;
            }

            slower ??= measured;
        }

        pick ??= slower;
        if (pick is null)
        {
            return NoFit(session.Tried, sensitivity, session.Display, settings);
        }

        File.Move(pick.File!, output, overwrite: true);
        var job = pick.Result;
        var warnings = job.Diagnostics.ToList();
        if (settings.Holdout is null)
        {
            warnings.Add(new Diagnostic(ErrorCodes.SearchUnvalidated,
                $"Quantize=Auto without holdout data chose {pick.Name} by size alone; its accuracy was not measured", session.Display, "Holdout", DiagnosticSeverity.Warning));
        }

        var table = PlanTable.For(inventory, pick.Options);
        return job with
        {
            Compression = job.Compression with { Output = output },
            Diagnostics = warnings,
            Chosen = pick.Options.Plan is { } chosenPlan && pick.Options.Quantize == QuantizeMode.None && chosenPlan.Precisions.Any(p => p != LayerPrecision.Float)
                ? QuantizeMode.Int8
                : pick.Options.Quantize,
            ChosenName = pick.Name,
            Candidates = session.Tried.ToArray(),
            Sensitivity = sensitivity,
            PlanTable = table,
            KeptFloat = pick.Options.Plan?.Named(LayerPrecision.Float) ?? [],
            Reason = Reason(session, pick),
        };
    }

    // The candidate's latency beside the original's, or null when it cannot be measured (inputs that
    // cannot be synthesized without holdout data, a shape the synthetic batch does not meet): a
    // search that chose by size and accuracy must not fail for want of a timing.
    private static BenchmarkResult? Latency(SearchSession session, CandidateOutcome candidate)
    {
        try
        {
            return LatencyBenchmark.BesideOriginal(candidate.File!, session.Source, session.Settings.Holdout);
        }
        catch (ModelShrinkException) when (session.Settings.MaxLatencyRatio is null)
        {
            return null;
        }
    }

    private static string Reason(SearchSession session, CandidateOutcome pick)
    {
        var fitting = Fitting(session).Count();
        var smaller = session.Tried.Where(c => c.Applies && c.Result.Compression.CompressedBytes < pick.Result.Compression.CompressedBytes).ToArray();
        var latency = pick.LatencyRatio is { } r ? $", {r:0.00}x the original's latency" : "";
        var why = smaller.Length == 0
            ? "the smallest candidate"
            : $"the smallest that fits ({smaller.Length} smaller: {string.Join("; ", smaller.Take(3).Select(c => $"{c.Name} {(c.Fits ? $"slower, {c.LatencyRatio:0.00}x" : "broke " + string.Join(", ", c.Result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Setting).Distinct()))}"))}{(smaller.Length > 3 ? "; ..." : "")})";
        var timedOut = session.OutOfTime ? $"; the search stopped at its time limit after {session.Elapsed.TotalSeconds:0}s" : "";
        return $"chose {pick.Name}: {why} of {session.Tried.Count} candidates ({fitting} within the budgets), {ByteSize.Format(pick.Result.Compression.CompressedBytes)}{latency}{timedOut}";
    }

    // Nothing fits: a failed result that still carries every candidate (so the report can show
    // them), whose one error gives the smallest size and best metric reached and what failed.
    private static JobResult NoFit(IReadOnlyList<CandidateOutcome> tried, IReadOnlyList<LayerSensitivity> sensitivity, string display, JobSettings settings)
    {
        var smallest = tried.Where(t => t.Applies).DefaultIfEmpty(tried[0]).MinBy(t => t.Result.Compression.CompressedBytes)!;
        var best = tried.Where(t => t.Result.Validation is not null).MaxBy(t => -AccuracyBudget.Drop(t.Result.Validation!));
        var failed = tried.SelectMany(t => NoFitAdvice.Broken(t, settings.MaxLatencyRatio)).Distinct();
        var metric = best is null ? "" : $"; best {best.Result.Validation!.Metric} {best.Result.Validation.Value:0.####} ({best.Name})";
        var error = new Diagnostic(ErrorCodes.SearchFoundNothing,
            $"no candidate fits the budgets: tried {string.Join(", ", tried.Select(t => t.Name))}; smallest {ByteSize.Format(smallest.Result.Compression.CompressedBytes)} ({smallest.Name}){metric}; failed: {string.Join(", ", failed)}{NoFitAdvice.For(tried, settings)}",
            display, "Quantize");
        return smallest.Result with { Diagnostics = [error], Chosen = null, Candidates = tried, Sensitivity = sensitivity };
    }
}
