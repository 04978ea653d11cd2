using System.CommandLine;
using ModelShrink.Core.Passes.Fp16;

namespace ModelShrink.Cli.Commands;

/// <summary>The fp16 pass's options on <c>compress</c>: --keep-io-types, --fp16-block-ops, --fp16-block-nodes.</summary>
public sealed class Fp16CliOptions
{
    /// <summary>--keep-io-types true|false.</summary>
    public Option<bool> KeepIoTypes { get; } = new("--keep-io-types")
    {
        Description = "With --quantize fp16: keep the model's float32 inputs and outputs float32, with Casts at the boundary (default true).",
        DefaultValueFactory = _ => true,
    };

    /// <summary>--fp16-block-ops A,B.</summary>
    public Option<string> BlockOps { get; } = new("--fp16-block-ops")
    {
        Description = "With --quantize fp16: op types kept float32, comma-separated. Replaces the default list; "
            + "include 'default' to extend it (default,Softmax); 'none' blocks nothing. Default: the ONNX-ML ops, NonMaxSuppression, "
            + "TopK, RoiAlign, Range, CumSum, Min, Max, Upsample, RandomUniformLike, quantization and signal-processing ops.",
    };

    /// <summary>--fp16-block-nodes n1,n2.</summary>
    public Option<string> BlockNodes { get; } = new("--fp16-block-nodes")
    {
        Description = "With --quantize fp16: names of nodes kept float32, comma-separated.",
    };

    /// <summary>The options, to add to a command.</summary>
    public IEnumerable<Option> All => [KeepIoTypes, BlockOps, BlockNodes];

    /// <summary>The pass options the command line asks for.</summary>
    public Fp16Options Read(ParseResult parse)
    {
        var options = new Fp16Options { KeepIoTypes = parse.GetValue(KeepIoTypes) };
        if (parse.GetValue(BlockOps) is { } ops)
        {
            options = options with { OpBlockList = ParseOpList(ops) };
        }

        if (parse.GetValue(BlockNodes) is { } nodes)
        {
            options = options with { NodeBlockList = Split(nodes) };
        }

        return options;
    }

    /// <summary>A comma-separated op list: 'default' expands to the default block list, 'none' is nothing.</summary>
    public static IReadOnlyList<string> ParseOpList(string text) =>
        Split(text)
            .Where(op => !op.Equals("none", StringComparison.OrdinalIgnoreCase))
            .SelectMany(op => op.Equals("default", StringComparison.OrdinalIgnoreCase) ? Fp16Options.DefaultOpBlockList : [op])
            .Distinct(StringComparer.Ordinal)
            .ToArray();

    private static string[] Split(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
