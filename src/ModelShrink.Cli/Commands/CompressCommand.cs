using System.CommandLine;
using System.Globalization;
using ModelShrink.Cli.Output;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Core.Passes.Reconstruction.Layerwise;
using ModelShrink.Core.Reports;
using ModelShrink.Core.Text;
using ModelShrink.Core.Validation;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Diagnostics;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Cli.Commands;

/// <summary>
/// <c>modelshrink compress MODEL -o OUT [--quantize MODE] [--holdout H] [--max-drop X] [--max-size SIZE] [--json]</c>:
/// write a compressed copy of a model, validated and checked against its budgets. The result is
/// staged beside OUT and moved into place only when no budget is broken.
/// </summary>
public static class CompressCommand
{
    private static readonly Argument<string> Model = new("MODEL") { Description = "The .onnx file to compress (only read, never changed)." };
    private static readonly Option<string> OutputFile = new("--output", "-o") { Description = "Where to write the compressed model.", Required = true };
    private static readonly Option<string> Quantize = new("--quantize")
    {
        Description = $"Quantization mode: {string.Join(", ", PipelineFactory.RequestableModes)} (case-insensitive; Auto searches for the smallest within the budgets).",
        DefaultValueFactory = _ => nameof(QuantizeMode.None),
    };
    private static readonly Option<long?> Opset = new("--opset")
    {
        Description = $"Raise the model's ai.onnx opset to N ({UpgradeOpsetPass.MinOpset}-{UpgradeOpsetPass.MaxOpset}) after clean-up, rewriting ops whose definition changed; a model already at or above N is left as it is.",
    };
    private static readonly Option<bool> OrtOptimize = new("--ort-optimize") { Description = "Also run ONNX Runtime's basic offline graph optimizations after clean-up." };
    private static readonly Option<string?> Holdout = new("--holdout") { Description = "Holdout data to validate the result on: test_data_set_N folders, .npz/.npy, or a folder of them." };
    private static readonly Option<string> Reconstruct = new("--reconstruct")
    {
        Description = "Teacher-guided reconstruction of quantized (int8, int8static, int4) or pruned weights, measured on --reconstruct-data: none; bias (shift each changed layer's bias so its per-channel output mean matches the original's); layerwise (GPTQ rounding and SparseGPT pruning from each layer's input statistics, then bias).",
        DefaultValueFactory = _ => nameof(ReconstructMode.None),
    };
    private static readonly Option<bool> CompareReconstruct = new("--compare-reconstruct")
    {
        Description = "Also run the same configuration with every reconstruction (none, bias, layerwise) and validate each on --holdout; the report shows them side by side and --reconstruct picks the one written.",
    };
    private static readonly Option<double> ReconstructDamp = new("--reconstruct-damp")
    {
        Description = "layerwise: dampening added to each layer's input second moment, as a share of its mean diagonal (default 0.01).",
        DefaultValueFactory = _ => LayerwiseOptions.DefaultDampening,
    };
    private static readonly Option<bool> ReconstructActOrder = new("--reconstruct-act-order")
    {
        Description = "layerwise: GPTQ rounds the inputs with the largest second moment first (default true; false rounds in weight order).",
        DefaultValueFactory = _ => true,
    };
    private static readonly Option<string?> ReconstructData = new("--reconstruct-data") { Description = "Data --reconstruct measures on (same layouts as --holdout); default: the --holdout data." };
    private static readonly Option<string?> MetricName = new("--metric") { Description = "Headline metric: Accuracy, Agreement, TopK, Cosine, MaxAbs, Rmse, Snr, ElementAgreement, Iou (default: ElementAgreement for a one-channel probability map, else Accuracy with labels, else Agreement, else Cosine)." };
    private static readonly Option<string?> MetricThreshold = new("--metric-threshold") { Description = "ElementAgreement and Iou: the probability above which an element counts as on (default 0.5)." };
    private static readonly Option<string?> MetricOutput = new("--metric-output") { Description = "The model output to score (default: the first numeric output)." };
    private static readonly Option<string?> MaxDrop = new("--max-drop") { Description = "Largest allowed drop of the headline metric, in absolute points (0.01 = one percentage point)." };
    private static readonly Option<string?> MinAgreement = new("--min-agreement") { Description = "Smallest allowed top-1 agreement with the original (0-1)." };
    private static readonly Option<string?> MinCosine = new("--min-cosine") { Description = "Smallest allowed cosine similarity with the original's outputs (0-1)." };
    private static readonly Option<string?> MaxSize = new("--max-size") { Description = "Size budget, e.g. 5MB (B, KB, MB, GB; 1 KB = 1024 B)." };
    private static readonly Option<string?> MaxSizeRatio = new("--max-size-ratio") { Description = "Size budget as a fraction of the original, e.g. 0.3." };
    private static readonly Option<string?> MaxLatencyRatio = new("--max-latency-ratio") { Description = "Latency budget for --quantize Auto: the largest CPU latency of its pick as a ratio to the original's, measured beside it (e.g. 1.0: no slower). Without it Auto still never picks a slower candidate when one that is not slower fits." };
    private static readonly Option<string?> TimeLimit = new("--time-limit") { Description = "Seconds --quantize Auto may search; then it keeps the best candidate so far (it goes on until one fits)." };
    private static readonly Fp16CliOptions Fp16 = new();
    private static readonly QuantizationCliOptions Quantization = new();
    private static readonly PruneCliOptions Prune = new();
    private static readonly StaticCliOptions Static = new();
    private static readonly Option<bool> Json = new("--json") { Description = "Print one JSON document on stdout instead of text." };
    private static readonly Option<string?> Report = new("--report") { Description = "Write report.json and report.html for the run into this folder (created if missing), whether or not a budget is broken." };
    private static readonly Option<bool> Progress = ProgressWriter.Option();

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("compress", "Clean up, prune and quantize a model, validate it on holdout data, check its budgets, and write it to --output.")
        {
            Model, OutputFile, Quantize, Opset, OrtOptimize, Reconstruct, CompareReconstruct, ReconstructDamp, ReconstructActOrder, ReconstructData, Holdout, MetricName, MetricThreshold, MetricOutput, MaxDrop, MinAgreement, MinCosine, MaxSize, MaxSizeRatio, MaxLatencyRatio, TimeLimit, Json,
            Report, Progress,
        };
        foreach (var option in Fp16.All.Concat(Prune.All))
        {
            command.Options.Add(option);
        }

        Quantization.AddTo(command);
        Static.AddTo(command);

        command.SetAction(parse =>
        {
            var source = parse.GetValue(Model)!;
            var output = parse.GetValue(OutputFile)!;
            var settings = Settings(parse);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var result = StagedRun(source, output, settings, ProgressWriter.For(parse, Progress));
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            var report = parse.GetValue(Report) is { } folder ? WriteReport(folder, source, output, settings, result, elapsed) : null;
            JsonOutput.WriteResult(parse, Json, result, CompressionText.Write);
            if (report is not null && !parse.GetValue(Json))
            {
                parse.InvocationConfiguration.Output.WriteLine($"report: {report}");
            }

            foreach (var diagnostic in result.Diagnostics)
            {
                parse.InvocationConfiguration.Error.WriteLine(diagnostic);
            }

            return result.Failed ? CommandHost.ErrorExit : 0;
        });
        return command;
    }

    /// <summary>Parses an enum option value case-insensitively, with a coded error listing the choices.</summary>
    public static T ParseEnum<T>(string text, string option) where T : struct, Enum =>
        EnumNames.TryParse<T>(text, out var value)
            ? value
            : throw ModelShrinkException.Error(ErrorCodes.InvalidArgument,
                $"'{text}' is not a valid value for {option}; choose one of {EnumNames.List<T>()}", setting: option);

    private static JobSettings Settings(ParseResult parse)
    {
        var compression = new CompressionOptions
        {
            Quantize = ParseEnum<QuantizeMode>(parse.GetValue(Quantize)!, "--quantize"),
            Cleanup = new CleanupOptions { TargetOpset = parse.GetValue(Opset), UseOrtOptimizer = parse.GetValue(OrtOptimize) },
            Fp16 = Fp16.Read(parse),
            Int8 = Quantization.Int8(parse),
            Int4 = Quantization.Int4(parse),
            Reconstruct = ParseEnum<ReconstructMode>(parse.GetValue(Reconstruct)!, "--reconstruct"),
            ReconstructData = parse.GetValue(ReconstructData) ?? parse.GetValue(Holdout),
            Layerwise = new LayerwiseOptions { Dampening = parse.GetValue(ReconstructDamp), ActOrder = parse.GetValue(ReconstructActOrder) },
            Prune = Prune.Read(parse),
            Int8Static = Static.Read(parse, Quantization, parse.GetValue(Holdout)),
        };
        if (!(compression.Layerwise.Dampening is > 0 and <= 10))
        {
            throw Invalid("--reconstruct-damp", $"{compression.Layerwise.Dampening} is not a share in (0, 10]");
        }

        if (compression.Reconstruct != ReconstructMode.None && compression.ReconstructData is null)
        {
            throw Invalid("--reconstruct", $"'{compression.Reconstruct}' needs data to measure on: give --reconstruct-data or --holdout");
        }

        long? maxSize = parse.GetValue(MaxSize) is { } sizeText
            ? (ByteSize.TryParse(sizeText, out var bytes) ? bytes : throw Invalid("--max-size", $"'{sizeText}' is not a size such as 5MB"))
            : null;
        var metric = parse.GetValue(MetricName) is { } metricText ? ParseEnum<Metric>(metricText, "--metric") : (Metric?)null;
        return new JobSettings(
            compression,
            new SizeBudget(maxSize, Number(parse, MaxSizeRatio, "--max-size-ratio")),
            new AccuracyBudget(Number(parse, MaxDrop, "--max-drop"), Number(parse, MinAgreement, "--min-agreement"), Number(parse, MinCosine, "--min-cosine")),
            parse.GetValue(Holdout),
            new ValidationOptions(parse.GetValue(MetricOutput), metric) { Threshold = Number(parse, MetricThreshold, "--metric-threshold") ?? 0.5 })
        {
            CompareReconstruct = parse.GetValue(CompareReconstruct),
            MaxLatencyRatio = Number(parse, MaxLatencyRatio, "--max-latency-ratio"),
            SearchTimeLimit = Number(parse, TimeLimit, "--time-limit") is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
        };
    }

    // Every candidate the run tried (one, or the Auto search's) goes into the report.
    private static string WriteReport(string folder, string source, string output, JobSettings settings, JobResult result, TimeSpan elapsed) =>
        ReportFiles.WriteTo(ReportBuilder.ForJob(source, settings, result, elapsed, output), folder).Html;

    // The job writes into a staging folder beside OUT, under a claim on OUT; only a result within its
    // budgets that ONNX Runtime loads is moved into place. Errors name OUT, never the staging folder.
    private static JobResult StagedRun(string source, string output, JobSettings settings, IProgress<string>? progress)
    {
        // Both paths are checked before anything is created: a bad one leaves no staging folder behind.
        var fullSource = InputFile.CheckRegular(source, "model file");
        var target = OutputPath.Check(output, "--output");
        if (string.Equals(fullSource, target, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))
        {
            throw ModelShrinkException.Error(ErrorCodes.InvalidArgument,
                "the output path is the input model itself; choose another output so the source stays untouched", source, "--output");
        }

        using var staging = StagingFolder.Create(Path.GetDirectoryName(target)!, output, "--output");
        using var claim = OutputLock.Acquire(target, output, "--output");
        var staged = staging.PathOf(Path.GetFileName(target));
        JobResult result;
        try
        {
            result = ModelShrink.Core.Search.CompressionRun.Run(source, staged, settings, source, progress: progress);
            if (!result.Failed)
            {
                progress?.Report("checking: the result loads in ONNX Runtime");
                LoadCheck.Verify(staged, output, "--output");
                StagedOutput.Publish(staging, target, output, "--output");
            }
        }
        catch (ModelShrinkException e)
        {
            throw new ModelShrinkException(StagedOutput.Unstage(e.Diagnostic, staging, staged, output), e);
        }

        return result with
        {
            Compression = result.Compression with { Output = output },
            Diagnostics = result.Diagnostics.Select(d => StagedOutput.Unstage(d, staging, staged, output)).ToArray(),
        };
    }

    private static double? Number(ParseResult parse, Option<string?> option, string name) =>
        parse.GetValue(option) is { } text
            ? double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) && value >= 0
                ? value
                : throw Invalid(name, $"'{text}' is not a non-negative number such as 0.01")
            : null;

    private static ModelShrinkException Invalid(string option, string problem) =>
        ModelShrinkException.Error(ErrorCodes.InvalidArgument, $"{option}: {problem}", setting: option);
}
