namespace ModelShrink.Benchmarks;

/// <summary>
/// A report's command line: model names or folders, and <c>--quick</c>, the minimal mode the tests
/// run (one small fixture, one latency round) so that a broken report fails CI.
/// </summary>
internal sealed record ReportArguments(string[] Names, bool Quick)
{
    /// <summary>Splits <c>--quick</c> from the names.</summary>
    public static ReportArguments Parse(string[] args) =>
        new(args.Where(a => a != "--quick").ToArray(), args.Contains("--quick"));

    /// <summary>The models to run: those named, else the report's quick model (a fixture) or its defaults.</summary>
    public (string Name, string Path)[] Models(IEnumerable<string> defaults, string quickModel) =>
        ReportModels.Resolve(Names, Quick ? [quickModel] : defaults);

    /// <summary>Latency measurement: at least this many alternating rounds ...</summary>
    public int MinimumRounds => Quick ? 1 : 10;

    /// <summary>... and more until this many seconds have passed.</summary>
    public double Seconds => Quick ? 0 : 3;
}
