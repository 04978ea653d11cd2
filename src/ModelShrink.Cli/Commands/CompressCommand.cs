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
using ModelShrink.Core.Settings;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Core.Providers;
using ModelShrink.Shared.Settings;

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
    private static readonly SettingOptions Settings = new();
    private static readonly Option<bool> Json = new("--json") { Description = "Print one JSON document on stdout instead of text." };
    private static readonly Option<string?> Report = new("--report") { Description = "Write report.json and report.html for the run into this folder (created if missing), whether or not a budget is broken." };
    private static readonly Option<bool> Progress = ProgressWriter.Option();

    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("compress", "Clean up, prune and quantize a model, validate it on holdout data, check its budgets, and write it to --output.")
        {
            Model, OutputFile, Json, Report, Progress,
        };
        Settings.AddTo(command);

        command.SetAction(parse =>
        {
            var source = parse.GetValue(Model)!;
            var output = parse.GetValue(OutputFile)!;
            var values = Settings.Read(parse);
            var (settings, providers) = values.BindAll(v => (SettingsBinder.Job(v), v.Has(SettingCatalog.Providers) ? SettingsBinder.Providers(v) : null));
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var result = StagedRun(source, output, settings, providers, ProgressWriter.For(parse, Progress));
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

    // Every candidate the run tried (one, or the Auto search's) goes into the report.
    private static string WriteReport(string folder, string source, string output, JobSettings settings, JobResult result, TimeSpan elapsed) =>
        ReportFiles.WriteTo(ReportBuilder.ForJob(source, settings, result, elapsed, output), folder).Html;

    // The job writes into a staging folder beside OUT, under a claim on OUT; only a result within its
    // budgets that ONNX Runtime loads is moved into place. Errors name OUT, never the staging folder.
    private static JobResult StagedRun(string source, string output, JobSettings settings, IReadOnlyList<ExecutionProvider>? providers, IProgress<string>? progress)
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
            if (!result.Failed && providers is not null)
            {
                result = ProviderVariants.Write(source, staging, Path.GetFileName(target), result, settings, providers, progress);
            }

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
}
