using ModelShrink.Onnx.IO;
using ModelShrink.Testing;

namespace ModelShrink.Benchmarks;

/// <summary>
/// <c>large-model FOLDER [GB]</c>: writes FOLDER/model.onnx, a chain of 8192x8192 float32 MatMuls
/// (256 MB each) over GB gigabytes (default 3), with its weights in FOLDER/model.onnx.data: a model
/// past protobuf's 2 GB limit for build/bench-large-model.sh.
/// </summary>
public static class LargeModel
{
    private const int Side = 8192;

    /// <summary>Runs the command.</summary>
    public static void Run(string[] args)
    {
        var folder = args.Length > 0 ? args[0] : throw new ArgumentException("usage: large-model FOLDER [GB]");
        var gigabytes = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3;
        var layers = (int)Math.Ceiling(gigabytes * 4);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "model.onnx");
        var saved = ModelWriter.Save(GeneratedModels.MatMulChain(Side, layers), path, new ModelSaveOptions { ExternalDataThreshold = 1024 });
        Console.WriteLine($"{path}: {layers} MatMul layers, {saved.ModelBytes} B model + {saved.ExternalDataBytes} B external data");
    }
}
