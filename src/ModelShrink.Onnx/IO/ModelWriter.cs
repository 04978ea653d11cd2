using Google.Protobuf;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Protobuf;

namespace ModelShrink.Onnx.IO;

/// <summary>What a save wrote.</summary>
/// <param name="ModelBytes">Size of the model file.</param>
/// <param name="ExternalDataBytes">Size of the external-data file (0 when none was written).</param>
/// <param name="ExternalDataPath">The external-data file's path, when one was written.</param>
public sealed record SaveResult(long ModelBytes, long ExternalDataBytes, string? ExternalDataPath)
{
    /// <summary>Bytes on disk in all.</summary>
    public long TotalBytes => ModelBytes + ExternalDataBytes;
}

/// <summary>
/// Saves the IR as an ONNX file. Writes go to temporary files in the target folder that are moved
/// into place only when complete, so a failed save never leaves a half-written model.
/// </summary>
public static class ModelWriter
{
    /// <summary>
    /// The threshold used when a model's weights would not fit inline: ONNX's own convention
    /// (onnx.save_model's size_threshold), so small tensors stay in the model file.
    /// </summary>
    public const long AutomaticExternalDataThreshold = 1024;

    /// <summary>
    /// Writes <paramref name="model"/> to <paramref name="path"/>. With no external-data threshold
    /// set, a model whose weights would pass protobuf's 2 GB limit inline is written with external
    /// data (tensors of 1 KB or more in <c>&lt;file&gt;.data</c>) instead of failing.
    /// </summary>
    public static SaveResult Save(Model model, string path, ModelSaveOptions? options = null)
    {
        options ??= ModelSaveOptions.Default;
        if (options.ExternalDataThreshold is null && TensorBytes(model) > options.MaxInlineBytes)
        {
            options = options with { ExternalDataThreshold = AutomaticExternalDataThreshold };
        }

        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath)!;
        var tempPath = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            OutputPath.CheckReplaceable(fullPath, path, "output");
            Directory.CreateDirectory(directory);
            using var sink = new TensorSink(options, fullPath, path);
            var proto = ToProto(model, sink);
            if (sink.InlineBytes > options.MaxInlineBytes)
            {
                throw ModelShrinkException.Error(ErrorCodes.ModelTooLarge,
                    $"{sink.InlineBytes} bytes of weights would stay inline, over protobuf's 2 GB limit; set an external-data threshold",
                    path, "ExternalDataThreshold");
            }

            using (var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            {
                using var output = new CodedOutputStream(stream, 1 << 20);
                proto.WriteTo(output);
                output.Flush();
            }

            var externalBytes = sink.ExternalBytes;
            sink.Commit();
            OutputPath.MoveInto(tempPath, fullPath, path, "output");
            var dataPath = externalBytes > 0 ? Path.Combine(directory, options.ExternalDataFileName ?? Path.GetFileName(fullPath) + ".data") : null;
            return new SaveResult(new FileInfo(fullPath).Length, externalBytes, dataPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ModelShrinkException.Error(ErrorCodes.WriteFailed, $"cannot write the model: {e.Message}", path, inner: e);
        }
        finally
        {
            if (File.Exists(tempPath))
            {
                File.Delete(tempPath);
            }
        }
    }

    /// <summary>Whether any initializer of any graph lies in external data.</summary>
    public static bool HasExternalData(Model model) =>
        model.Graph.EnumerateGraphs().Any(g => g.Initializers.Any(v => v.Initializer!.External is not null));

    /// <summary>The bytes of every tensor the writer may keep inline: initializers, sparse initializers and attribute tensors, in every graph.</summary>
    public static long TensorBytes(Model model)
    {
        long total = 0;
        foreach (var graph in model.Graph.EnumerateGraphs())
        {
            foreach (var value in graph.Initializers)
            {
                total += value.Initializer!.ByteCount;
            }

            foreach (var value in graph.SparseInitializers)
            {
                total += value.SparseInitializer!.ByteCount;
            }

            foreach (var node in graph.Nodes)
            {
                foreach (var attribute in node.Attributes)
                {
                    total += attribute.Tensor?.ByteCount ?? 0;
                }
            }
        }

        return total;
    }

    /// <summary>The model as a ModelProto with every tensor inline (for in-memory use, e.g. ONNX Runtime sessions).</summary>
    public static byte[] ToBytes(Model model)
    {
        using var sink = new TensorSink(ModelSaveOptions.Default, model.Path ?? "model.onnx", model.Path ?? "model");
        return ToProto(model, sink).ToByteArray();
    }

    /// <summary>
    /// The model as a ModelProto in memory whose untouched external tensors still point at their files
    /// (every other tensor inline), and the folder those locations are relative to: ONNX Runtime opens
    /// it from the bytes with that folder (session.model_external_initializers_file_folder_path), so no
    /// copy of the weights is written or held. Null when that cannot be done: a model read from a stream,
    /// no external data, or inline tensors over protobuf's limit.
    /// </summary>
    public static (byte[] Bytes, string DataFolder)? ToBytesOverExternalData(Model model)
    {
        if (model.Path is null || !HasExternalData(model))
        {
            return null;
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(model.Path))!;
        var options = ModelSaveOptions.Default with { KeepExternalData = true };
        using var sink = new TensorSink(options, model.Path, model.Path);
        var proto = ToProto(model, sink);
        var resolvedHere = sink.KeptReferences.All(r =>
            string.Equals(Path.GetFullPath(Path.Combine(folder, r.Location.Replace('\\', '/'))), r.FullPath, StringComparison.Ordinal));
        return sink.KeptReferences.Count == 0 || !resolvedHere || sink.InlineBytes > options.MaxInlineBytes
            ? null
            : (proto.ToByteArray(), folder);
    }

    private static ModelProto ToProto(Model model, TensorSink sink)
    {
        // Clone the model-level fields without deep-copying the graph, which is rebuilt from the IR.
        var graph = model.Proto.Graph;
        model.Proto.Graph = null;
        ModelProto shell;
        try
        {
            shell = model.Proto.Clone();
        }
        finally
        {
            model.Proto.Graph = graph;
        }

        shell.Graph = new GraphWriter(sink).Write(model.Graph);
        return shell;
    }
}
