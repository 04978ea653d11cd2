using System.Globalization;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Validation;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Search;

/// <summary>
/// The story of a run in one sentence, made from its measured candidates and its budgets: what was
/// chosen and why the others were not ("Chose int8 per-channel (0.28x the size, Accuracy -0.39 pt):
/// int4 broke MaxAccuracyDrop by 2.1 pt; fp16 and float32 were larger"), what a plain run did and
/// that its budgets held, or, when nothing was written, which candidate came closest and by how much
/// it missed (with the <see cref="Shortfall"/> that the report and the JSON carry).
/// </summary>
public static class RunSummary
{
    // How many candidates that broke a budget the sentence names (the report lists them all).
    private const int NamedBreaks = 3;

    /// <summary><paramref name="job"/> with its <see cref="JobResult.Summary"/> and, when it failed, its <see cref="JobResult.Shortfall"/>.</summary>
    public static JobResult Attach(JobResult job, JobSettings settings)
    {
        var search = job.Candidates.Count > 0;
        var candidates = search ? job.Candidates : [Single(job, settings)];
        if (job.Failed)
        {
            var shortfall = Shortfall(candidates, job, settings, search);
            return job with { Summary = Failed(candidates, shortfall, settings), Shortfall = shortfall };
        }

        var chosen = search ? candidates.FirstOrDefault(c => c.Name == job.ChosenName) : candidates[0];
        var summary = chosen is null || !search ? Plain(candidates[0], job, settings)
            : settings.CompareReconstruct ? Compared(chosen, candidates, settings)
            : Chose(chosen, candidates, settings);
        return job with { Summary = summary, Shortfall = null };
    }

    /// <summary>"0.28x the size, Accuracy -0.39 pt": a candidate's size against the original and its headline metric.</summary>
    public static string Facts(JobResult result)
    {
        var size = $"{Number(result.Compression.SizeRatio, "0.00")}x the size";
        return result.Validation is { } v ? $"{size}, {MetricChange(v)}" : size;
    }

    // A plain run as the one candidate of its own report, labelled from its options.
    private static CandidateOutcome Single(JobResult job, JobSettings settings)
    {
        var options = settings.Compression with { Quantize = job.Chosen ?? settings.Compression.Quantize };
        return new CandidateOutcome(CandidateLabel.Of(options), options, job);
    }

    private static string Plain(CandidateOutcome candidate, JobResult job, JobSettings settings)
    {
        var warned = BudgetMisses.Warned(candidate, settings);
        var held = SetBudgets(settings, job.Validation?.Metric).Where(b => warned.All(w => w.Setting != b.Setting)).Select(b => b.Text).ToArray();
        var budgets = held.Length > 0 ? $"every budget held ({string.Join(", ", held)})" : warned.Count > 0 ? "" : "no budget was set";
        var broken = warned.Count > 0 ? $"{(budgets.Length > 0 ? "; " : "")}broken, as warnings only (BudgetSeverity=Warning): {string.Join(", ", warned.Select(w => w.Text))}" : "";
        var why = job.Reason is { } reason ? $"; {reason}" : "";
        return $"Did {candidate.Name} ({Facts(job)}); {budgets}{broken}{why}";
    }

    private static string Compared(CandidateOutcome chosen, IReadOnlyList<CandidateOutcome> candidates, JobSettings settings)
    {
        var others = candidates.Where(c => c != chosen).Select(c => $"{c.Name} ({Facts(c.Result)}{(c.Fits ? "" : $", broke {Misses(c, settings)}")})");
        return $"Wrote {chosen.Name} ({Facts(chosen.Result)}) as Reconstruct={settings.Compression.Reconstruct} asks; compared with {string.Join(" and ", others)}";
    }

    private static string Chose(CandidateOutcome chosen, IReadOnlyList<CandidateOutcome> candidates, JobSettings settings)
    {
        var bytes = chosen.Result.Compression.CompressedBytes;
        var broke = new List<string>();
        var slower = new List<string>();
        var larger = new List<string>();
        var unchanged = new List<string>();
        foreach (var c in candidates.Where(c => c != chosen))
        {
            var size = c.Result.Compression.CompressedBytes;
            if (!c.Applies)
            {
                unchanged.Add(c.Name);
            }
            else if (!c.Fits || NoFitAdvice.Broken(c, settings.MaxLatencyRatio).Count > 0)
            {
                broke.Add($"{c.Name} broke {Misses(c, settings)}");
            }
            else if (size > bytes)
            {
                larger.Add(c.Name);
            }
            else if (c.LatencyRatio is { } ratio)
            {
                slower.Add($"{c.Name} was {(size == bytes ? "as small" : "smaller")} but slower ({Number(ratio, "0.00")}x the original's latency)");
            }
            else
            {
                slower.Add($"{c.Name} was {(size == bytes ? "as small" : "smaller")}, but its latency could not be measured");
            }
        }

        var reasons = new List<string>(broke.Take(NamedBreaks));
        if (broke.Count > NamedBreaks)
        {
            reasons.Add($"{broke.Count - NamedBreaks} more broke a budget");
        }

        reasons.AddRange(slower);
        if (larger.Count > 0)
        {
            reasons.Add($"{Names(larger)} {(larger.Count == 1 ? "was" : "were")} larger");
        }

        if (unchanged.Count > 0)
        {
            reasons.Add($"{Names(unchanged)} changed nothing");
        }

        var alone = settings.Holdout is null ? " by size alone (no holdout data)" : "";
        return reasons.Count == 0
            ? $"Chose {chosen.Name} ({Facts(chosen.Result)}){alone}, the only candidate"
            : $"Chose {chosen.Name} ({Facts(chosen.Result)}){alone}: {string.Join("; ", reasons)}";
    }

    private static string Failed(IReadOnlyList<CandidateOutcome> candidates, Shortfall shortfall, JobSettings settings)
    {
        var closest = candidates.First(c => c.Name == shortfall.Candidate);
        var missed = shortfall.DescribeMissed();
        if (candidates.Count == 1)
        {
            return $"Wrote nothing: {closest.Name} ({Facts(closest.Result)}) broke {missed}";
        }

        var others = candidates.Where(c => c != closest && c.Applies && !c.Fits).Take(NamedBreaks - 1).Select(c => $"{c.Name} broke {Misses(c, settings)}").ToArray();
        return $"Wrote nothing: none of the {candidates.Count} candidates is within every budget; the closest, {closest.Name} ({Facts(closest.Result)}), broke {missed}"
            + (others.Length > 0 ? $"; {string.Join("; ", others)}" : "");
    }

    // The candidate that came closest: fewest budgets broken, then the smallest relative overshoot.
    private static Shortfall Shortfall(IReadOnlyList<CandidateOutcome> candidates, JobResult job, JobSettings settings, bool search)
    {
        var missing = candidates.Select(c => (Candidate: c, Misses: BudgetMisses.Of(c, settings))).ToArray();
        var closest = missing.Where(m => m.Candidate.Applies && m.Misses.Count > 0)
            .OrderBy(m => m.Misses.Count).ThenBy(m => m.Misses.Sum(Relative)).ThenBy(m => m.Candidate.Result.Compression.CompressedBytes)
            .Select(m => ((CandidateOutcome Candidate, IReadOnlyList<BudgetMiss> Misses)?)m)
            .FirstOrDefault() ?? (missing[^1].Candidate, missing[^1].Misses);
        var ways = search
            ? NoFitAdvice.Ways(candidates, settings)
            : [.. NoFitAdvice.Ways(candidates, settings, suggestPruning: false), .. Remedies(closest.Candidate, closest.Misses, job, settings)];
        return new Shortfall(closest.Candidate.Name, closest.Candidate.Result.Compression.CompressedBytes, closest.Misses, WaysOut.List(ways, settings.Size.Severity));
    }

    // A plain run's other ways out: a smaller mode or pruning for a size budget, a gentler mode or less pruning for accuracy.
    private static IEnumerable<string> Remedies(CandidateOutcome candidate, IReadOnlyList<BudgetMiss> misses, JobResult job, JobSettings settings)
    {
        var options = candidate.Options;
        var ways = new List<string>();
        if (misses.Any(m => m.Setting is "MaxSize" or "MaxSizeRatio"))
        {
            ways.AddRange(WaysOut.Smaller(options.Prune, SizeHints.For(job.Compression.OriginalBytes, job.Compression.FloatWeightBytes, options.Quantize, settings.Size.MaxBytes)));
        }

        if (misses.Any(m => AccuracyBudget.Settings.Contains(m.Setting)))
        {
            ways.AddRange(WaysOut.Gentler(options.Quantize, options.Prune, options.Reconstruct));
        }

        return ways.Distinct();
    }

    private static double Relative(BudgetMiss miss) =>
        miss.Over is { } over && miss.Limit is { } limit ? over / Math.Max(Math.Abs(limit), 1e-3) : double.PositiveInfinity;

    private static string Misses(CandidateOutcome candidate, JobSettings settings) =>
        string.Join(", ", BudgetMisses.Of(candidate, settings).Select(m => m.Text));

    // The budgets of the run, as "MaxSize 60KB", "MaxAccuracyDrop 1 pt".
    private static IEnumerable<(string Setting, string Text)> SetBudgets(JobSettings settings, Metric? metric)
    {
        if (settings.Size.MaxBytes is { } maxBytes)
        {
            yield return ("MaxSize", $"MaxSize {ByteSize.Format(maxBytes)}");
        }

        if (settings.Size.MaxRatio is { } ratio)
        {
            yield return ("MaxSizeRatio", $"MaxSizeRatio {Number(ratio, "0.###")}");
        }

        if (settings.Accuracy.MaxDrop is { } drop)
        {
            yield return ("MaxAccuracyDrop", $"MaxAccuracyDrop {(metric?.IsShare() == true ? BudgetMisses.Points(drop) : Number(drop, "0.####"))}");
        }

        if (settings.Accuracy.MinAgreement is { } agreement)
        {
            yield return ("MinAgreement", $"MinAgreement {Number(agreement * 100, "0.##")}%");
        }

        if (settings.Accuracy.MinCosine is { } cosine)
        {
            yield return ("MinCosine", $"MinCosine {Number(cosine, "0.######")}");
        }

        if (settings.MaxLatencyRatio is { } latency)
        {
            yield return ("MaxLatencyRatio", $"MaxLatencyRatio {Number(latency, "0.##")}x");
        }
    }

    // "Accuracy -0.39 pt" for a share metric (change against the original, positive = better), else "Cosine 0.99987".
    private static string MetricChange(ValidationResult v)
    {
        if (!v.Metric.IsShare())
        {
            return $"{v.Metric} {Number(v.Value, "0.#####")}";
        }

        var change = -AccuracyBudget.Drop(v) * 100;
        return Math.Abs(change) < 0.005 ? $"{v.Metric} unchanged" : $"{v.Metric} {(change > 0 ? "+" : "-")}{Number(Math.Abs(change), "0.0#")} pt";
    }

    private static string Names(IReadOnlyList<string> names) =>
        names.Count == 1 ? names[0] : $"{string.Join(", ", names.Take(names.Count - 1))} and {names[^1]}";

    private static string Number(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
