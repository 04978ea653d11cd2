using System.CommandLine;
using ModelShrink.Core.Passes.Int4WeightOnly;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Core.Quantization;

namespace ModelShrink.Cli.Commands;

/// <summary>The <c>compress</c> options of the int8 and int4 passes, and their mapping onto the passes' option records.</summary>
public sealed class QuantizationCliOptions
{
    private readonly Option<bool> perChannel = new("--per-channel") { Description = "int8: one scale per output channel (default true; --per-channel false for one per weight, smaller but it collapsed a real OCR recognizer).", DefaultValueFactory = _ => true };
    private readonly Option<string> weightType = new("--weight-type") { Description = "int8: stored weight type, int8 or uint8 (default int8).", DefaultValueFactory = _ => "int8" };
    private readonly Option<bool?> symmetric = new("--symmetric") { Description = "int8: symmetric weights, true or false (default: true for int8, false for uint8)." };
    private readonly Option<bool> reduceRange = new("--reduce-range") { Description = "int8 and int8static: 7-bit weights, for CPUs without VNNI." };
    private readonly Option<string[]> opTypes = new("--op-types") { Description = "int8 and int8static: operator types to quantize, comma-separated (int8 default MatMul,Gemm,Conv,LSTM,GRU,RNN).", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string[]> excludeNodes = new("--exclude-nodes") { Description = "Node names to leave in float, comma-separated.", AllowMultipleArgumentsPerToken = true };
    private readonly Option<string> int8Form = new("--int8-form") { Description = "int8: auto (per operator, the faster form), integer (MatMulInteger/ConvInteger), weight-only (int8 storage, float compute) or qdq (DequantizeLinear on weights).", DefaultValueFactory = _ => "auto" };
    private readonly Option<int> blockSize = new("--block-size") { Description = "int4: weights per block along K, a power of two >= 16 (default 32).", DefaultValueFactory = _ => 32 };
    private readonly Option<string> int4Format = new("--int4-format") { Description = "int4: matmulnbits (com.microsoft.MatMulNBits) or qdq (int4 + blocked DequantizeLinear, opset 21).", DefaultValueFactory = _ => "matmulnbits" };
    private readonly Option<bool> int4ZeroPoints = new("--int4-zero-points") { Description = "int4: asymmetric blocks with zero points (default symmetric)." };
    private readonly Option<int?> int4AccuracyLevel = new("--int4-accuracy-level") { Description = "int4: MatMulNBits accuracy_level; 4 lets ONNX Runtime compute in int8 (faster for large K). Default: unset." };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { perChannel, weightType, symmetric, reduceRange, opTypes, excludeNodes, int8Form, blockSize, int4Format, int4ZeroPoints, int4AccuracyLevel })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The int8-dynamic pass options given on the command line.</summary>
    public Int8DynamicOptions Int8(ParseResult parse)
    {
        var options = new Int8DynamicOptions
        {
            PerChannel = parse.GetValue(perChannel),
            WeightType = CompressCommand.ParseEnum<WeightType>(parse.GetValue(weightType)!, "--weight-type"),
            Symmetric = parse.GetValue(symmetric),
            ReduceRange = parse.GetValue(reduceRange),
            ExcludeNodes = List(parse.GetValue(excludeNodes)),
            Form = CompressCommand.ParseEnum<Int8Form>(parse.GetValue(int8Form)!.Replace("-", ""), "--int8-form"),
        };
        var types = List(parse.GetValue(opTypes));
        return types.Count > 0 ? options with { OpTypes = types } : options;
    }

    /// <summary>The int4 pass options given on the command line.</summary>
    public Int4WeightOnlyOptions Int4(ParseResult parse) => new()
    {
        BlockSize = parse.GetValue(blockSize),
        Format = CompressCommand.ParseEnum<Int4Format>(parse.GetValue(int4Format)!, "--int4-format"),
        ZeroPoints = parse.GetValue(int4ZeroPoints),
        AccuracyLevel = parse.GetValue(int4AccuracyLevel),
        ExcludeNodes = List(parse.GetValue(excludeNodes)),
    };

    /// <summary>The operator types given with --op-types (empty: each pass's default).</summary>
    internal IReadOnlyList<string> OpTypes(ParseResult parse) => List(parse.GetValue(opTypes));

    /// <summary>The node names given with --exclude-nodes.</summary>
    internal IReadOnlyList<string> ExcludeNodes(ParseResult parse) => List(parse.GetValue(excludeNodes));

    /// <summary>Whether --reduce-range was given.</summary>
    internal bool ReduceRange(ParseResult parse) => parse.GetValue(reduceRange);

    // "a,b c" and repeated options all give [a, b, c].
    private static IReadOnlyList<string> List(string[]? values) =>
        values is null ? [] : values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
}
