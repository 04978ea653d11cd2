using ModelShrink.Core.Passes;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Compression;

/// <summary>
/// Runs one compression: load, run the pipeline, write the result atomically. The source model is
/// only read; the output never replaces it.
/// </summary>
public static class Compressor
{
    /// <summary>Compresses <paramref name="input"/> into <paramref name="output"/>; <paramref name="progress"/>, when given, hears of each step.</summary>
    public static CompressionResult Run(string input, string output, CompressionOptions options, CancellationToken cancellation = default, IProgress<string>? progress = null)
    {
        if (SamePath(input, output))
        {
            throw ModelShrinkException.Error(ErrorCodes.InvalidArgument,
                "the output path is the input model itself; choose another output so the source stays untouched", input, "--output");
        }

        var pipeline = PipelineFactory.Create(options);
        progress?.Report($"compressing: loading {input}");
        var model = ModelReader.Load(input);
        var originalBytes = SizeOnDisk(model);
        var floatWeights = FloatWeightBytes(model);
        using var context = new PassContext(input, cancellation);
        var records = pipeline.Run(model, context, progress);
        if (!options.MatMulNBitsAllowed && model.Graph.EnumerateNodes().Any(n => n.OpType == "MatMulNBits" && n.Domain == "com.microsoft"))
        {
            throw ModelShrinkException.Error(ErrorCodes.ContribOpAboveAppRuntime,
                "int4 MatMulNBits needs ONNX Runtime 1.17 or later, which the app does not reference; raise its Microsoft.ML.OnnxRuntime version or use Int8",
                input, "Quantize");
        }

        if (options.MaxOpset is { } cap && model.Opsets.Default > cap)
        {
            throw ModelShrinkException.Error(ErrorCodes.OpsetAboveAppRuntime,
                $"the compressed model needs ai.onnx opset {model.Opsets.Default}, but the app's ONNX Runtime runs opsets up to {cap}; raise the app's Microsoft.ML.OnnxRuntime version or lower --opset",
                input, "Quantize");
        }

        progress?.Report("compressing: writing the result");
        var saved = ModelWriter.Save(model, output);
        return new CompressionResult(input, output, originalBytes, saved.TotalBytes, records, context.Diagnostics, floatWeights);
    }

    /// <summary>Bytes of float32 weights, wherever the model keeps them.</summary>
    public static long FloatWeightBytes(Model model) =>
        model.Graph.EnumerateGraphs()
            .SelectMany(g => g.Initializers.Select(v => v.Initializer!).Concat(g.Nodes.Where(n => n.IsConstant).Select(n => n.ConstantValue()).OfType<Onnx.Tensors.Tensor>()))
            .Where(t => t.DataType == Onnx.Tensors.DataType.Float)
            .Sum(t => t.ByteCount);

    /// <summary>Bytes of a model on disk: its file and every external-data file it reads.</summary>
    public static long SizeOnDisk(Model model)
    {
        var external = model.Graph.EnumerateGraphs()
            .SelectMany(g => g.Initializers.Select(v => v.Initializer!))
            .Concat(model.Graph.EnumerateNodes().SelectMany(n => n.Attributes).Select(a => a.Tensor).OfType<Onnx.Tensors.Tensor>())
            .Select(t => t.External?.FullPath)
            .OfType<string>()
            .Distinct()
            .Sum(p => new FileInfo(p).Length);
        return (model.Path is null ? 0 : new FileInfo(model.Path).Length) + external;
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
}
