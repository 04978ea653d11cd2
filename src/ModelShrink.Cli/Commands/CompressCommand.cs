using System.CommandLine;
using ModelShrink.Cli.Output;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Core.Text;
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
        var opset = new Option<long?>("--opset")
        {
            Description = $"Raise the model's ai.onnx opset to N ({UpgradeOpsetPass.MinOpset}-{UpgradeOpsetPass.MaxOpset}) after clean-up, rewriting ops whose definition changed; a model already at or above N is left as it is.",
        };
        var ortOptimize = new Option<bool>("--ort-optimize") { Description = "Also run ONNX Runtime's basic offline graph optimizations after clean-up." };
        var command = new Command("compress", "Clean up and quantize a model, writing the result to --output.")
        {
            model, output, quantize, json, opset, ortOptimize,
        };

        command.SetAction(parse =>
        {
            var options = new CompressionOptions
            {
                Quantize = ParseEnum<QuantizeMode>(parse.GetValue(quantize)!, "--quantize"),
                Cleanup = new CleanupOptions { TargetOpset = parse.GetValue(opset), UseOrtOptimizer = parse.GetValue(ortOptimize) },
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
        EnumNames.TryParse<T>(text, out var value)
            ? value
            : throw ModelShrinkException.Error(ErrorCodes.InvalidArgument,
                $"'{text}' is not a valid value for {option}; choose one of {EnumNames.List<T>()}", setting: option);
}
