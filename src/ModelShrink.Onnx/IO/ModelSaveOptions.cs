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

    /// <summary>
    /// The most tensor bytes kept inside the model file: protobuf refuses messages of 2 GB or more,
    /// so the default keeps a 64 MB margin for the graph's own fields. With no
    /// <see cref="ExternalDataThreshold"/>, a model over it is written with external data.
    /// </summary>
    public long MaxInlineBytes { get; init; } = int.MaxValue - (64L << 20);

    /// <summary>
    /// Untouched tensors that live in external data are written as references to their own file
    /// (location as read, relative to the source model's folder) instead of being copied; for a
    /// model held in memory and opened by ONNX Runtime with that folder (<see cref="ModelWriter.ToBytesOverExternalData"/>).
    /// </summary>
    internal bool KeepExternalData { get; init; }

    /// <summary>Options that keep everything inline.</summary>
    public static ModelSaveOptions Default { get; } = new();
}
