using System.CommandLine;
using ModelShrink.Cli.Output;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Validation;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Diagnostics;

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
        var metric = new Option<string?>("--metric") { Description = "Headline metric: Accuracy, Agreement, TopK, Cosine, MaxAbs, Rmse, Snr, ElementAgreement, Iou (default: ElementAgreement for a one-channel probability map [N,1,H,W], else Accuracy with labels, else Agreement, else Cosine)." };
        var threshold = new Option<double>("--metric-threshold") { Description = "ElementAgreement and Iou: the probability above which an element counts as on (default 0.5).", DefaultValueFactory = _ => 0.5 };
        var output = new Option<string?>("--output") { Description = "The model output to score (default: the first numeric output)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON document on stdout instead of text." };
        var progress = ProgressWriter.Option();
        var command = new Command("validate", "Run both models on holdout data with ONNX Runtime and score the candidate against the original.")
        {
            original, candidate, holdout, metric, threshold, output, json, progress,
        };

        command.SetAction(parse =>
        {
            var requested = parse.GetValue(metric) is { } text ? CompressCommand.ParseEnum<Metric>(text, "--metric") : (Metric?)null;
            var result = ModelComparer.Compare(parse.GetValue(original)!, parse.GetValue(candidate)!, parse.GetValue(holdout)!,
                new ValidationOptions(parse.GetValue(output), requested) { Threshold = parse.GetValue(threshold) }, progress: ProgressWriter.For(parse, progress));
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
