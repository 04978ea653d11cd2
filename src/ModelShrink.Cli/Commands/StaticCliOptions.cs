using System.CommandLine;
using System.Globalization;
using ModelShrink.Core.Calibration;
using ModelShrink.Core.Passes.Int8Static;
using ModelShrink.Core.Quantization;
using ModelShrink.Diagnostics;

namespace ModelShrink.Cli.Commands;

/// <summary>The <c>compress</c> options of the int8-static pass, and their mapping onto <see cref="Int8StaticOptions"/>.</summary>
public sealed class StaticCliOptions
{
    private readonly Option<string?> calibration = new("--calibration") { Description = "int8static: calibration data (test_data_set_N folders, .npz/.npy, or a folder of them); default: the --holdout data, with a warning." };
    private readonly Option<string> method = new("--calibration-method") { Description = "int8static: how activation ranges are chosen: minmax, percentile or entropy (default minmax).", DefaultValueFactory = _ => "minmax" };
    private readonly Option<string?> percentile = new("--percentile") { Description = "int8static: the percentile of absolute values --calibration-method percentile keeps (default 99.999)." };
    private readonly Option<string> activationType = new("--activation-type") { Description = "int8static: activation type, uint8 or int8 (default uint8; see the README).", DefaultValueFactory = _ => "uint8" };
    private readonly Option<bool> symmetricActivations = new("--symmetric-activations") { Description = "int8static: symmetric activation ranges (zero point in the middle)." };
    private readonly Option<bool> perTensor = new("--per-tensor") { Description = "int8static: one scale per weight instead of one per output channel." };
    private readonly Option<string> thinConvs = new("--thin-convs") { Description = "int8static: float (default) keeps depthwise and stem convolutions (under 4 input channels per group) in float compute on int8 weights; int8 quantizes them too.", DefaultValueFactory = _ => "float" };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { calibration, method, percentile, activationType, symmetricActivations, perTensor, thinConvs })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>
    /// The int8-static pass options given on the command line; <paramref name="holdout"/> calibrates
    /// when --calibration is absent. The operator types, excluded nodes and reduce range are the
    /// ones the int8 options also read.
    /// </summary>
    public Int8StaticOptions Read(ParseResult parse, QuantizationCliOptions shared, string? holdout)
    {
        var data = parse.GetValue(calibration);
        var options = new Int8StaticOptions
        {
            CalibrationData = data ?? holdout,
            CalibrationFromHoldout = data is null && holdout is not null,
            Method = CompressCommand.ParseEnum<CalibrationMethod>(parse.GetValue(method)!, "--calibration-method"),
            ActivationType = CompressCommand.ParseEnum<WeightType>(parse.GetValue(activationType)!, "--activation-type"),
            SymmetricActivations = parse.GetValue(symmetricActivations),
            PerChannel = !parse.GetValue(perTensor),
            ReduceRange = shared.ReduceRange(parse),
            ExcludeNodes = shared.ExcludeNodes(parse),
            ThinConvsFloat = parse.GetValue(thinConvs)!.ToLowerInvariant() switch
            {
                "float" => true,
                "int8" => false,
                var other => throw ModelShrinkException.Error(ErrorCodes.InvalidArgument, $"'{other}' is not a valid value for --thin-convs; choose float or int8", setting: "--thin-convs"),
            },
        };
        if (parse.GetValue(percentile) is { } text)
        {
            options = options with
            {
                Percentile = double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
                    ? value
                    : throw ModelShrinkException.Error(ErrorCodes.InvalidArgument, $"--percentile: '{text}' is not a number such as 99.99", setting: "--percentile"),
            };
        }

        var types = shared.OpTypes(parse);
        return types.Count > 0 ? options with { OpTypes = types } : options;
    }
}
