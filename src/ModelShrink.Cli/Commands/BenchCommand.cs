using System.CommandLine;
using System.Globalization;
using ModelShrink.Cli.Output;
using ModelShrink.Core.Benchmarking;
using ModelShrink.Core.Gpu;

namespace ModelShrink.Cli.Commands;

/// <summary><c>modelshrink bench MODEL [--baseline ORIGINAL] [--holdout H] [--runs N] [--threads T] [--json]</c>.</summary>
public static class BenchCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var model = new Argument<string>("MODEL") { Description = "The .onnx model to time." };
        var baseline = new Option<string?>("--baseline") { Description = "A model to time beside it (e.g. the original), alternating run by run; the result reads as a ratio." };
        var holdout = new Option<string?>("--holdout") { Description = "Holdout data whose first batch is the input (default: synthetic inputs, symbolic dimensions = 1)." };
        var runs = new Option<int>("--runs") { Description = "Timed runs per model (after 3 warm-up runs).", DefaultValueFactory = _ => 50 };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads.", DefaultValueFactory = _ => 1 };
        var provider = ProviderOption.Create("both models run on; on CUDA, one more profiled run says where ONNX Runtime placed the model's nodes");
        var json = new Option<bool>("--json") { Description = "Print one JSON document on stdout instead of text." };
        var command = new Command("bench", "Time a model in ONNX Runtime (CPU or CUDA), optionally beside a baseline.") { model, baseline, holdout, runs, threads, provider, json };
        command.SetAction(parse =>
        {
            var result = LatencyBenchmark.Run(parse.GetValue(model)!, parse.GetValue(baseline), parse.GetValue(holdout), parse.GetValue(runs), parse.GetValue(threads),
                provider: ProviderOption.Read(parse, provider));
            JsonOutput.WriteResult(parse, json, result, Write);
            return 0;
        });
        return command;
    }

    private static void Write(TextWriter w, BenchmarkResult r)
    {
        w.WriteLine($"{r.Runs} runs on {r.Provider.OrtName()}, {r.Threads} thread(s), batch of {r.Model.Samples} from {r.Input}");
        Line(w, r.Model);
        if (r.Baseline is { } baseline)
        {
            Line(w, baseline);
            w.WriteLine($"  ratio {r.Ratio!.Value.ToString("0.00", CultureInfo.InvariantCulture)} (median of the model over the baseline's)");
        }

        if (r.Placement is { } placement)
        {
            w.WriteLine($"  placement: {placement.Describe()}");
        }
    }

    private static void Line(TextWriter w, LatencyResult l) =>
        w.WriteLine($"  {l.Model}: median {l.MedianMs.ToString("0.###", CultureInfo.InvariantCulture)} ms, p90 {l.P90Ms.ToString("0.###", CultureInfo.InvariantCulture)} ms, {l.SamplesPerSecond.ToString("0", CultureInfo.InvariantCulture)} samples/s");
}
