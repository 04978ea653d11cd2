using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Testing;

/// <summary>Models generated on the fly where a test needs a size the committed fixtures do not have.</summary>
public static class GeneratedModels
{
    /// <summary>
    /// One MatMul over <paramref name="count"/> square float32 weights of side <paramref name="side"/>,
    /// chained (x·W0·W1…), with small random values (seeded). Returns the model, not yet saved.
    /// </summary>
    public static Model MatMulChain(int side, int count = 1, int seed = 42)
    {
        var model = Model.Create("matmul-chain", 8, ("", 17));
        var graph = model.Graph;
        var current = graph.AddInput("x", TensorType.Of(DataType.Float, "N", side));
        var random = new Random(seed);
        for (var layer = 0; layer < count; layer++)
        {
            var weights = new float[(long)side * side];
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = (float)(random.NextDouble() * 2 - 1) * 0.05f;
            }

            var w = graph.AddInitializer(Tensor.FromArray<float>($"W{layer}", [side, side], weights));
            current = graph.AddNode("MatMul", [current, w], [$"h{layer}"]).Outputs[0]!;
            current.Type = TensorType.Of(DataType.Float, "N", side);
        }

        graph.Outputs.Add(current);
        return model;
    }

    /// <summary>Writes <see cref="MatMulChain"/> to <paramref name="path"/>.</summary>
    public static string WriteMatMulChain(string path, int side, int count = 1, ModelSaveOptions? options = null)
    {
        ModelWriter.Save(MatMulChain(side, count), path, options);
        return path;
    }
}
