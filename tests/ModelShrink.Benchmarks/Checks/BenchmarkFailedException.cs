namespace ModelShrink.Benchmarks.Checks;

/// <summary>
/// What a benchmark timed did not succeed or did not produce what it should: the run ends with exit
/// code 1 and this message (Program.cs), never with a table of figures measured on a failure.
/// </summary>
public sealed class BenchmarkFailedException : Exception
{
    /// <summary>Names the file that collects the failures of every benchmark process of one run.</summary>
    public const string FailuresVariable = "MODELSHRINK_BENCH_FAILURES";

    /// <summary>Creates the failure and appends its message to the run's failures file, when there is one.</summary>
    public BenchmarkFailedException(string message)
        : base(message)
    {
        // BenchmarkDotNet 0.15.8 logs an exception thrown by a [GlobalSetup] or [GlobalCleanup] and still
        // counts the benchmark a success, in process or not: the host reads the failures from this file
        // (its child processes inherit the variable) to fail the run (BenchmarkRuns.Check).
        if (Environment.GetEnvironmentVariable(FailuresVariable) is { Length: > 0 } file)
        {
            File.AppendAllText(file, message.ReplaceLineEndings(" ") + Environment.NewLine);
        }
    }
}
