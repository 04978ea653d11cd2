using NuGet.Versioning;

namespace ModelShrink.Core.Providers;

/// <summary>
/// The ONNX Runtime the app will run the model with, read from its PackageReference or
/// PackageVersion items: what the output may use (opset, contrib ops) and which providers the app
/// can actually load.
/// </summary>
public sealed record AppRuntime(NuGetVersion? Version, IReadOnlyList<string> Packages)
{
    // ONNX Runtime release -> highest default-domain opset it implements (ORT's compatibility
    // documentation, "ONNX opset support"). Versions newer than the last row get the last row's
    // opset: we never assume support we have not seen documented.
    private static readonly (Version Release, int Opset)[] OpsetByRelease =
    [
        (new(1, 0), 11), (new(1, 3), 12), (new(1, 6), 13), (new(1, 8), 14), (new(1, 9), 15), (new(1, 11), 16),
        (new(1, 12), 17), (new(1, 14), 18), (new(1, 15), 19), (new(1, 17), 20), (new(1, 18), 21), (new(1, 21), 22),
        (new(1, 23), 23),
    ];

    /// <summary>The ORT the engine itself runs on, assumed when the app names none.</summary>
    public static readonly NuGetVersion EngineVersion = new(1, 31, 1);

    /// <summary>Parses what the MSBuild task found; an unparsable version is null.</summary>
    public static AppRuntime From(string version, IEnumerable<string> packages) =>
        new(NuGetVersion.TryParse(version, out var parsed) ? parsed : null, packages.Where(p => p.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToArray());

    /// <summary>The version outputs must run on: the app's, or the engine's when the app names none.</summary>
    public NuGetVersion EffectiveVersion => Version ?? EngineVersion;

    /// <summary>The highest default-domain opset the output may use.</summary>
    public int MaxOpset
    {
        get
        {
            var release = new Version(EffectiveVersion.Major, EffectiveVersion.Minor);
            return OpsetByRelease.LastOrDefault(r => r.Release <= release, (new(0, 0), 10)).Opset;
        }
    }

    /// <summary>Whether com.microsoft MatMulNBits (int4 weight-only) runs: ORT 1.17 and later.</summary>
    public bool SupportsMatMulNBits => EffectiveVersion >= new NuGetVersion(1, 17, 0);

    /// <summary>The package the app lacks for <paramref name="provider"/>, or null when it has one that carries it.</summary>
    public string? MissingPackageFor(ExecutionProvider provider)
    {
        bool Has(string prefix) => Packages.Any(p => p.StartsWith(prefix, StringComparison.OrdinalIgnoreCase));
        return provider switch
        {
            ExecutionProvider.CUDA when !Has("Microsoft.ML.OnnxRuntime.Gpu") => "Microsoft.ML.OnnxRuntime.Gpu",
            ExecutionProvider.DirectML when !Has("Microsoft.ML.OnnxRuntime.DirectML") => "Microsoft.ML.OnnxRuntime.DirectML",
            ExecutionProvider.CPU when Packages.Count == 0 => "Microsoft.ML.OnnxRuntime",
            _ => null,
        };
    }
}
