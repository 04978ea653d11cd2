using System.CommandLine;
using ModelShrink.Cli.Output;
using ModelShrink.Core.Compression;
using ModelShrink.Diagnostics;

namespace ModelShrink.Cli.Commands;

/// <summary><c>modelshrink compress MODEL -o OUT [--quantize MODE] [--json]</c>: write a compressed copy of a model.</summary>
public static class CompressCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var model = new Argument<string>("MODEL") { Description = "The .onnx file to compress (only read, never changed)." };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the compressed model.", Required = true };
        var quantize = new Option<string>("--quantize")
        {
            Description = $"Quantization mode: {string.Join(", ", PipelineFactory.SupportedModes)} (case-insensitive).",
            DefaultValueFactory = _ => nameof(QuantizeMode.None),
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON document on stdout instead of text." };
        var command = new Command("compress", "Clean up and quantize a model, writing the result to --output.")
        {
            model, output, quantize, json,
        };
        var quantization = new QuantizationCliOptions();
        quantization.AddTo(command);

        command.SetAction(parse =>
        {
            var options = new CompressionOptions
            {
                Quantize = ParseEnum<QuantizeMode>(parse.GetValue(quantize)!, "--quantize"),
                Int8 = quantization.Int8(parse),
                Int4 = quantization.Int4(parse),
            };
            var result = Compressor.Run(parse.GetValue(model)!, parse.GetValue(output)!, options);
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                JsonOutput.Write(stdout, result);
            }
            else
            {
                CompressionText.Write(stdout, result);
            }

            return 0;
        });
        return command;
    }

    /// <summary>Parses an enum option value case-insensitively, with a coded error listing the choices.</summary>
    public static T ParseEnum<T>(string text, string option) where T : struct, Enum =>
        Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value) && !int.TryParse(text, out _)
            ? value
            : throw ModelShrinkException.Error(ErrorCodes.InvalidArgument,
                $"'{text}' is not a valid value for {option}; choose one of {string.Join(", ", Enum.GetNames<T>())}", setting: option);
}
