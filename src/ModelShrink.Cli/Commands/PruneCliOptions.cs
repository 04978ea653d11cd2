using System.CommandLine;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Core.Text;
using ModelShrink.Diagnostics;

namespace ModelShrink.Cli.Commands;

/// <summary>
/// The prune pass's options on <c>compress</c>: --prune SPARSITY, --prune-mode, --prune-scope,
/// --prune-skip, --prune-layers, --prune-min-size, --prune-keep-ends, --prune-gather, --prune-storage.
/// </summary>
public sealed class PruneCliOptions
{
    /// <summary>--prune SPARSITY.</summary>
    public Option<string?> Sparsity { get; } = new("--prune")
    {
        Description = "Prune before quantizing: the share of weights made zero (magnitude) or of output channels removed (channels) in each pruned layer, 0 to 1 (exclusive), e.g. 0.5.",
    };

    /// <summary>--prune-mode magnitude|nm:N:M|channels.</summary>
    public Option<string?> Mode { get; } = new("--prune-mode")
    {
        Description = "magnitude (default; smallest weights become zero), nm:N:M (e.g. nm:2:4: N of every M weights along the reduction axis stay; sparsity (M-N)/M, --prune optional) or channels (whole output channels removed: fewer parameters, faster).",
    };

    /// <summary>--prune-scope layer|global.</summary>
    public Option<string?> Scope { get; } = new("--prune-scope")
    {
        Description = "magnitude: layer (default; every layer reaches the sparsity) or global (one threshold across layers).",
    };

    /// <summary>--prune-skip n1,n2.</summary>
    public Option<string?> Skip { get; } = new("--prune-skip") { Description = "Names of nodes whose weights are never pruned, comma-separated." };

    /// <summary>--prune-layers n1=0.3,n2=0.8.</summary>
    public Option<string?> Layers { get; } = new("--prune-layers")
    {
        Description = "Per-layer sparsities by node name, e.g. /fc1/Gemm=0.8,/fc2/Gemm=0.3; these layers are pruned even at the ends of the network.",
    };

    /// <summary>--prune-min-size N.</summary>
    public Option<long?> MinSize { get; } = new("--prune-min-size")
    {
        Description = $"Weights with fewer elements are not pruned (default {PruneOptions.DefaultMinLayerSize}).",
    };

    /// <summary>--prune-keep-ends true|false.</summary>
    public Option<bool> KeepEnds { get; } = new("--prune-keep-ends")
    {
        Description = "Keep the first and last layers dense (default true; they are named in warning MSH2401).",
        DefaultValueFactory = _ => true,
    };

    /// <summary>--prune-gather.</summary>
    public Option<bool> Gather { get; } = new("--prune-gather") { Description = "Also prune large Gather tables (embeddings); magnitude and N:M." };

    /// <summary>--prune-storage sparse|sparse-int64|dense.</summary>
    public Option<string?> Storage { get; } = new("--prune-storage")
    {
        Description = "How zeros are stored: sparse (default; sparse_initializer with the narrowest index ONNX Runtime loads, when smaller), sparse-int64 (int64 indices, what the ONNX checker accepts) or dense (zeros in place; best when the file is zipped).",
    };

    /// <summary>The options, to add to a command.</summary>
    public IEnumerable<Option> All => [Sparsity, Mode, Scope, Skip, Layers, MinSize, KeepEnds, Gather, Storage];

    /// <summary>The pass options the command line asks for; null without --prune and --prune-mode.</summary>
    public PruneOptions? Read(ParseResult parse)
    {
        var options = PruneModeText.FromSettings(parse.GetValue(Sparsity), parse.GetValue(Mode), "--prune", "--prune-mode", Invalid);
        if (options is null)
        {
            var stray = All.Skip(2).FirstOrDefault(o => parse.GetResult(o) is { Implicit: false });
            return stray is null ? null : throw Invalid(stray.Name, "needs --prune (or --prune-mode nm:N:M)");
        }

        options = options with { KeepFirstAndLast = parse.GetValue(KeepEnds), IncludeGather = parse.GetValue(Gather) };
        if (parse.GetValue(Scope) is { } scope)
        {
            options = options with { Scope = Parse<PruneScope>(scope, "--prune-scope") };
        }

        if (parse.GetValue(Storage) is { } storage)
        {
            options = options with { Storage = Parse<PruneStorage>(storage.Replace("-", "", StringComparison.Ordinal), "--prune-storage") };
        }

        if (parse.GetValue(MinSize) is { } minSize)
        {
            options = options with { MinLayerSize = minSize >= 0 ? minSize : throw Invalid("--prune-min-size", $"{minSize} is negative") };
        }

        if (parse.GetValue(Skip) is { } skip)
        {
            options = options with { SkipNodes = Split(skip) };
        }

        if (parse.GetValue(Layers) is { } layers)
        {
            options = options with { LayerSparsity = LayerSparsities(layers) };
        }

        return options;
    }

    private static Dictionary<string, double> LayerSparsities(string text)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var entry in Split(text))
        {
            var at = entry.LastIndexOf('=');
            if (at <= 0 || !PruneModeText.TryParseSparsity(entry[(at + 1)..], out var sparsity))
            {
                throw Invalid("--prune-layers", $"'{entry}' is not NODE=SPARSITY with a sparsity from 0 to 1 (exclusive)");
            }

            result[entry[..at].Trim()] = sparsity;
        }

        return result;
    }

    private static T Parse<T>(string text, string option) where T : struct, Enum =>
        EnumNames.TryParse<T>(text, out var value) ? value : throw Invalid(option, $"'{text}' is not one of {EnumNames.List<T>()}");

    private static string[] Split(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static ModelShrinkException Invalid(string option, string problem) =>
        ModelShrinkException.Error(ErrorCodes.InvalidArgument, $"{option}: {problem}", setting: option);
}
