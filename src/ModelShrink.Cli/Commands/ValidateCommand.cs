using System.CommandLine;
using ModelShrink.Cli.Output;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Validation;
using ModelShrink.Core.Settings;
using ModelShrink.Shared.Settings;
using Catalog = ModelShrink.Shared.Settings.SettingCatalog;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Cli.Commands;

/// <summary><c>modelshrink validate ORIGINAL CANDIDATE --holdout H [--metric M] [--output NAME] [--json]</c>.</summary>
public static class ValidateCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var original = new Argument<string>("ORIGINAL") { Description = "The original .onnx model." };
        var candidate = new Argument<string>("CANDIDATE") { Description = "The compressed .onnx model to score against it." };
        var holdout = new Option<string>("--holdout") { Description = "Holdout data: a folder of test_data_set_N folders, an .npz/.npy file, or a folder of them.", Required = true };
        // The same settings as compress's, declared once in the catalog (--output is the older name of --metric-output).
        var metric = new Option<string?>(Catalog.Metric.CliName) { Description = SettingText.Description(Catalog.Metric, SettingSurface.Cli) };
        var threshold = new Option<string?>(Catalog.MetricThreshold.CliName) { Description = SettingText.Description(Catalog.MetricThreshold, SettingSurface.Cli) };
        var output = new Option<string?>(Catalog.MetricOutput.CliName, "--output") { Description = SettingText.Description(Catalog.MetricOutput, SettingSurface.Cli) };
        var provider = ProviderOption.Create("the candidate runs on (the original, the reference, always runs on the CPU)");
        var json = new Option<bool>("--json") { Description = "Print one JSON document on stdout instead of text." };
        var progress = ProgressWriter.Option();
        var command = new Command("validate", "Run both models on holdout data with ONNX Runtime and score the candidate against the original.")
        {
            original, candidate, holdout, metric, threshold, output, provider, json, progress,
        };

        command.SetAction(parse =>
        {
            var values = new SettingValues(new Dictionary<string, string>
            {
                [Catalog.Metric.Name] = parse.GetValue(metric) ?? "",
                [Catalog.MetricThreshold.Name] = parse.GetValue(threshold) ?? "",
                [Catalog.MetricOutput.Name] = parse.GetValue(output) ?? "",
            }, SettingSurface.Cli, file: null, Environment.CurrentDirectory);
            var result = ModelComparer.Compare(parse.GetValue(original)!, parse.GetValue(candidate)!, parse.GetValue(holdout)!,
                SettingsBinder.Validation(values) with { Provider = ProviderOption.Read(parse, provider) }, progress: ProgressWriter.For(parse, progress));
            JsonOutput.WriteResult(parse, json, result, ValidationText.Write);
            if (AccuracyBudget.NonFinite(result, parse.GetValue(candidate)!, DiagnosticSeverity.Warning) is { } nonFinite)
            {
                parse.InvocationConfiguration.Error.WriteLine(nonFinite);
            }

            return 0;
        });
        return command;
    }
}
