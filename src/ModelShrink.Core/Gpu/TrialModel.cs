using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Gpu;

/// <summary>The one-node model the CUDA probe runs: y = x + x over float[4] (opset 13).</summary>
internal static class TrialModel
{
    private static readonly Lazy<byte[]> Cached = new(Build);

    /// <summary>The model's bytes.</summary>
    public static byte[] Bytes => Cached.Value;

    private static byte[] Build()
    {
        var model = Model.Create("cuda_probe", 7, ("", 13));
        var x = model.Graph.AddInput("x", TensorType.Of(DataType.Float, 4));
        var add = model.Graph.AddNode("Add", [x, x], ["y"]);
        add.Outputs[0]!.Type = TensorType.Of(DataType.Float, 4);
        model.Graph.Outputs.Add(add.Outputs[0]!);
        return ModelWriter.ToBytes(model);
    }
}
