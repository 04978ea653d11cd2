using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace ModelShrink.Benchmarks.Checks;

/// <summary>A BenchmarkDotNet run, checked: BenchmarkDotNet itself prints a failed benchmark and exits 0.</summary>
public static class BenchmarkRuns
{
    /// <summary>
    /// Runs the benchmarks <paramref name="args"/> select and throws <see cref="BenchmarkFailedException"/>
    /// when none ran (a filter that matched nothing), when a benchmark case did not run to the end or
    /// validation stopped it, or when a check of what a benchmark produced failed in its setup or cleanup.
    /// </summary>
    public static void Run(string[] args)
    {
        var failures = Path.Combine(Path.GetTempPath(), $"modelshrink-bench-failures-{Guid.NewGuid():N}.txt");
        Environment.SetEnvironmentVariable(BenchmarkFailedException.FailuresVariable, failures);
        try
        {
            var summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchmarkRuns).Assembly).Run(args).ToArray();
            Environment.SetEnvironmentVariable(BenchmarkFailedException.FailuresVariable, null);
            var failed = File.Exists(failures) ? File.ReadAllLines(failures) : [];
            if (failed.Length > 0)
            {
                throw new BenchmarkFailedException($"{failed.Length} check(s) failed: {string.Join("; ", failed.Distinct())}");
            }

            Check(summaries);
        }
        finally
        {
            Environment.SetEnvironmentVariable(BenchmarkFailedException.FailuresVariable, null);
            File.Delete(failures);
        }
    }

    private static void Check(Summary[] summaries)
    {
        if (summaries.Length == 0 || summaries.All(s => s.BenchmarksCases.Length == 0))
        {
            throw new BenchmarkFailedException("no benchmark ran (check the --filter)");
        }

        foreach (var summary in summaries)
        {
            if (summary.HasCriticalValidationErrors)
            {
                throw new BenchmarkFailedException($"{summary.Title}: {string.Join("; ", summary.ValidationErrors.Select(e => e.Message))}");
            }

            var failed = summary.BenchmarksCases.Where(c => summary[c] is not { Success: true }).ToArray();
            if (failed.Length > 0)
            {
                throw new BenchmarkFailedException($"{failed.Length} benchmark(s) failed: {string.Join(", ", failed.Select(c => c.DisplayInfo))} (see the log above)");
            }
        }
    }
}
