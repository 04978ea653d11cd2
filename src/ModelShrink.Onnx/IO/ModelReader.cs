using Google.Protobuf;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Onnx.IO;

/// <summary>Options for reading a model from a stream.</summary>
public sealed record ModelReadOptions
{
    /// <summary>
    /// The deepest message nesting accepted. Each subgraph level costs three (graph, node,
    /// attribute), so 100 (protobuf's default, also used for files) allows about 30 nested
    /// If/Loop levels while keeping a hostile file from exhausting the stack.
    /// </summary>
    public int MaxNestingDepth { get; init; } = 100;

    /// <summary>The cap on <see cref="MaxNestingDepth"/>: deeper parsing could exhaust a thread's stack.</summary>
    public const int MaxAllowedNesting = 300;
}

/// <summary>Loads ONNX models from files or streams into the IR, with coded errors for bad input.</summary>
public static class ModelReader
{
    /// <summary>Loads a model file; external data is resolved against the file's folder.</summary>
    public static Model Load(string path)
    {
        var fullPath = InputFile.CheckRegular(path, "model file");

        FileStream stream;
        try
        {
            stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ModelShrinkException.Error(ErrorCodes.ModelNotFound, $"cannot open the model file: {e.Message}", path, inner: e);
        }

        using (stream)
        {
            var proto = ParseMapped(stream, path);
            return Build(proto, Path.GetDirectoryName(fullPath), path, fullPath);
        }
    }

    /// <summary>
    /// Loads a model from a stream. <paramref name="baseDirectory"/> is where external data is
    /// looked for (null refuses external data); <paramref name="displayName"/> names it in errors.
    /// </summary>
    public static Model Load(Stream stream, string displayName, string? baseDirectory = null, ModelReadOptions? options = null)
    {
        // A stream that cannot seek has no known length: protobuf's own 2 GB limit applies.
        var length = stream.CanSeek ? stream.Length - stream.Position : -1;
        var proto = Parse(stream, length, displayName, options ?? new ModelReadOptions());
        return Build(proto, baseDirectory, displayName, null);
    }

    // Files are parsed from a memory-mapped view (see Tensors.MappedFile) under protobuf's default
    // nesting limit of 100, about 30 levels of nested subgraphs.
    private static ModelProto ParseMapped(FileStream stream, string file)
    {
        CheckLength(stream.Length, file);
        using var mapped = new MappedFile(stream);
        var proto = stream.Length >= SplitFrom ? ParseSplit(mapped, stream.Name) : null;
        if (proto is null)
        {
            // Merged into an instance (what ParseFrom does) so that, on failure, what was read so far
            // tells a truncated model from bytes that were never ONNX.
            proto = new ModelProto();
            try
            {
                proto.MergeFrom(mapped.Sequence);
            }
            catch (InvalidProtocolBufferException e)
            {
                throw LengthOverflow(mapped, proto, file) ?? Classify(e, proto, file, DefaultNestingLimit);
            }
        }

        if (LengthOverflow(mapped, proto, file) is { } overflow)
        {
            throw overflow;
        }

        return CheckOnnx(proto, file);
    }

    // Files from 16 MB have their raw_data of 1 MB or more viewed in the file instead of copied (LargeRawData).
    private const long SplitFrom = 16L << 20;
    private const int CutFrom = 1 << 20;

    // The model parsed without its large raw_data, which is attached as views of the mapped file; null when
    // the file's layout is not the plain one or does not parse that way (the whole file is then parsed).
    private static ModelProto? ParseSplit(MappedFile mapped, string path)
    {
        if (LargeRawData.Split(mapped.GetSpan(), CutFrom) is not var (remainder, cuts))
        {
            return null;
        }

        var proto = new ModelProto();
        try
        {
            proto.MergeFrom(remainder);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }

        var initializers = proto.Graph?.Initializer;
        if (initializers is null || cuts.Any(c => c.Index >= initializers.Count || initializers[c.Index].HasRawData))
        {
            return null;
        }

        var file = new MappedDataFile(path);
        foreach (var cut in cuts)
        {
            if (file.View(cut.Offset, cut.Length) is not { } view)
            {
                return null;
            }

            initializers[cut.Index].RawData = UnsafeByteOperations.UnsafeWrap(view);
        }

        return proto;
    }

    /// <summary>Parses the ModelProto alone (no IR), with the same checks and errors as <see cref="Load(string)"/>.</summary>
    internal static ModelProto Parse(Stream stream, long length, string file, ModelReadOptions options)
    {
        if (length >= 0)
        {
            CheckLength(length, file);
        }

        var proto = new ModelProto();
        try
        {
            // The size limit makes a length field that points past the end of the file fail at
            // once instead of reading on; the recursion limit stops hostile nesting.
            using var input = CodedInputStream.CreateWithLimits(stream, length >= 0 ? (int)length : int.MaxValue, Math.Clamp(options.MaxNestingDepth, 1, ModelReadOptions.MaxAllowedNesting));
            proto.MergeFrom(input);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Classify(e, proto, file, options.MaxNestingDepth);
        }

        return CheckOnnx(proto, file);
    }

    private static void CheckLength(long length, string file)
    {
        if (length == 0)
        {
            throw ModelShrinkException.Error(ErrorCodes.ModelEmpty, "model file is empty", file);
        }

        if (length > int.MaxValue)
        {
            throw ModelShrinkException.Error(ErrorCodes.ModelTooLarge,
                $"model file is {length} bytes, over protobuf's 2 GB limit; large weights must be stored as external data", file);
        }
    }

    private static ModelProto CheckOnnx(ModelProto proto, string file)
    {
        if (proto.Graph is null || proto.IrVersion <= 0)
        {
            throw ModelShrinkException.Error(ErrorCodes.ModelNotOnnx,
                "not an ONNX model: it parses as protobuf but has no graph or no ir_version", file);
        }

        return proto;
    }

    private static Model Build(ModelProto proto, string? baseDirectory, string file, string? fullPath)
    {
        var reader = new GraphReader(new ExternalDataResolver(baseDirectory, file), file);
        var graph = reader.Read(proto.Graph, null, null, new NameRegistry());
        return new Model(proto, graph, fullPath);
    }

    private const int DefaultNestingLimit = 100;

    // Google.Protobuf keeps only the low 32 bits of a length (see WireLengths): a model whose
    // lengths do not fit is truncated, whether the parse then failed or went on through the bytes.
    private static ModelShrinkException? LengthOverflow(MappedFile mapped, ModelProto partial, string file)
    {
        var at = WireLengths.FindOverflow(mapped.GetSpan(), ModelProto.Descriptor, DefaultNestingLimit);
        if (at < 0 || !partial.HasIrVersion)
        {
            return null;
        }

        return ModelShrinkException.Error(ErrorCodes.ModelTruncated,
            $"model file is truncated: the length of the field at byte {at} runs past the end of its message (a length over 4 GB would otherwise read as its low 32 bits)", file);
    }

    private static ModelShrinkException Classify(InvalidProtocolBufferException e, ModelProto partial, string file, int nestingLimit)
    {
        var message = e.Message;
        if (message.Contains("levels of nesting", StringComparison.OrdinalIgnoreCase))
        {
            return ModelShrinkException.Error(ErrorCodes.ModelTooDeep,
                $"messages are nested more than {nestingLimit} levels deep", file, inner: e);
        }

        // A length of 2 GB or more reads as "negative size"; files over 2 GB are refused earlier, so
        // it points past the end. Running out of bytes means truncation only if the file began like
        // a model (ONNX writers put ir_version first): text or an image runs out too, mid-"field".
        var ranPastTheEnd = message.Contains("ended unexpectedly", StringComparison.OrdinalIgnoreCase)
            || message.Contains("too large", StringComparison.OrdinalIgnoreCase)
            || message.Contains("truncated", StringComparison.OrdinalIgnoreCase)
            || message.Contains("negative size", StringComparison.OrdinalIgnoreCase);
        if (ranPastTheEnd && partial.HasIrVersion)
        {
            return ModelShrinkException.Error(ErrorCodes.ModelTruncated,
                "model file is truncated: a field's length runs past the end of the file", file, inner: e);
        }

        if (ranPastTheEnd)
        {
            return ModelShrinkException.Error(ErrorCodes.ModelNotOnnx,
                "not an ONNX model: the bytes do not parse as protobuf (no ir_version before a field ran past the end)", file, inner: e);
        }

        return ModelShrinkException.Error(ErrorCodes.ModelNotOnnx, $"not an ONNX model: {message}", file, inner: e);
    }
}
