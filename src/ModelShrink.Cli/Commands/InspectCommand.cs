using System.CommandLine;
using ModelShrink.Cli.Output;
using ModelShrink.Core.Inspection;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Cli.Commands;

/// <summary><c>modelshrink inspect MODEL [--json]</c>: describe a model without changing it.</summary>
public static class InspectCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var model = new Argument<string>("MODEL") { Description = "The .onnx file to describe." };
        var json = new Option<bool>("--json") { Description = "Print one JSON document on stdout instead of text." };
        var command = new Command("inspect", "Describe a model: IR version, opsets, inputs and outputs, operators, parameters, largest weights, external data.")
        {
            model,
            json,
        };

        command.SetAction(parse =>
        {
            var path = parse.GetValue(model)!;
            var summary = ModelInspector.Summarize(ModelReader.Load(path), path);
            JsonOutput.WriteResult(parse, json, summary, SummaryText.Write);

            return 0;
        });
        return command;
    }
}
