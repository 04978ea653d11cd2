using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Benchmarks;

/// <summary>
/// Writes a float32 model of one MatMul over a square weight (400 MiB at the default size), the
/// shape of model ONNX Runtime's Python quantization tool was timed on.
/// </summary>
public static class GeneratedMatMulModel
{
    /// <summary>The weight's side: 10240² floats = 400 MiB.</summary>
    public const int DefaultSide = 10240;

    /// <summary>Creates the model at <paramref name="path"/> and returns its size in bytes.</summary>
    public static long Write(string path, int side = DefaultSide)
    {
        var model = Model.Create("matmul", 8, ("", 17));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, "N", side));

        var weights = new float[(long)side * side];
        var random = new Random(42);
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = (float)(random.NextDouble() * 2 - 1) * 0.05f;
        }

        var w = graph.AddInitializer(Tensor.FromArray<float>("W", [side, side], weights));
        var y = graph.AddNode("MatMul", [x, w], ["y"]).Outputs[0]!;
        y.Type = TensorType.Of(DataType.Float, "N", side);
        graph.Outputs.Add(y);
        return ModelWriter.Save(model, path).TotalBytes;
    }
}
