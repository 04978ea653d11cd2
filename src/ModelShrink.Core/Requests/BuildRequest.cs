namespace ModelShrink.Core.Requests;

/// <summary>
/// What the MSBuild task asks the engine to do: one entry per &lt;CompressModel&gt; item, every
/// path absolute, every metadata value as the user wrote it (the engine parses and checks them,
/// so the task stays free of engine knowledge). Serialized as camelCase JSON; see
/// docs/request-format.md.
/// </summary>
public sealed record BuildRequest
{
    /// <summary>The request format's version; the engine refuses versions it does not know.</summary>
    public int Version { get; init; } = 1;

    /// <summary>The project file, which diagnostics point at.</summary>
    public string ProjectFile { get; init; } = "";

    /// <summary>The Microsoft.ML.OnnxRuntime version the app references, or empty.</summary>
    public string OnnxRuntimeVersion { get; init; } = "";

    /// <summary>The ONNX Runtime package ids the app references (Microsoft.ML.OnnxRuntime, .Gpu, .DirectML, ...).</summary>
    public IReadOnlyList<string> OnnxRuntimePackages { get; init; } = [];

    /// <summary>
    /// Validate and choose CUDA variants on the GPU when the engine's ONNX Runtime can run CUDA here
    /// (the ModelShrinkGpuValidation property; the task then loads the CUDA build of ONNX Runtime).
    /// </summary>
    public bool GpuValidation { get; init; }

    /// <summary>The models to process.</summary>
    public IReadOnlyList<BuildRequestItem> Items { get; init; } = [];
}

/// <summary>One &lt;CompressModel&gt; item.</summary>
public sealed record BuildRequestItem
{
    /// <summary>The item's Include, as written in the project (for messages).</summary>
    public string ItemSpec { get; init; } = "";

    /// <summary>The model's absolute path.</summary>
    public string Source { get; init; } = "";

    /// <summary>The folder the item's outputs are written to (absolute; created if missing).</summary>
    public string OutputDirectory { get; init; } = "";

    /// <summary>Every metadata value of the item, by name, as written (unknown names are refused).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();
}
