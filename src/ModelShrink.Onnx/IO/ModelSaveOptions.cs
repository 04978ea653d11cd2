using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Onnx.IO;

/// <summary>How a model is written.</summary>
public sealed record ModelSaveOptions
{
    /// <summary>
    /// Tensors of at least this many bytes go to the external-data file; null keeps every tensor
    /// inside the model file (which protobuf limits to 2 GB).
    /// </summary>
    public long? ExternalDataThreshold { get; init; }

    /// <summary>The external-data file's name, beside the model; default <c>&lt;model file&gt;.data</c>.</summary>
    public string? ExternalDataFileName { get; init; }

    /// <summary>How tensors created or changed by passes are encoded; untouched tensors keep their own form.</summary>
    public TensorEncoding Encoding { get; init; } = TensorEncoding.Raw;

    /// <summary>Options that keep everything inline.</summary>
    public static ModelSaveOptions Default { get; } = new();
}
