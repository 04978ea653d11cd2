using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ModelShrink.Onnx.Tensors;
using DataType = ModelShrink.Onnx.Tensors.DataType;
using Tensor = ModelShrink.Onnx.Tensors.Tensor;

namespace ModelShrink.Testing;

/// <summary>Runs models in ONNX Runtime (CPU) so tests compare numbers ORT actually produced.</summary>
public static class OrtRunner
{
    /// <summary>
    /// Runs the model at <paramref name="modelPath"/> on <paramref name="inputs"/> (in graph-input
    /// order, then initializers to override, by name) and returns every float output (float16 ones widened to float32), by name, flattened.
    /// </summary>
    public static Dictionary<string, float[]> Run(string modelPath, IReadOnlyList<Tensor> inputs)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC };
        using var session = new InferenceSession(modelPath, options);
        var names = session.InputNames;
        var values = new List<OrtValue>();
        try
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                values.Add(ToOrtValue(inputs[i]));
            }

            using var runOptions = new RunOptions();
            // Tensors past the graph inputs override initializers (listed as inputs), by their names.
            var inputNames = names.Take(inputs.Count).Concat(inputs.Skip(names.Count).Select(t => t.Name)).ToArray();
            using var results = session.Run(runOptions, inputNames, values, session.OutputNames);
            var outputs = new Dictionary<string, float[]>();
            for (var i = 0; i < results.Count; i++)
            {
                var type = results[i].GetTensorTypeAndShape().ElementDataType;
                if (type == TensorElementType.Float)
                {
                    outputs[session.OutputNames[i]] = results[i].GetTensorDataAsSpan<float>().ToArray();
                }
                else if (type == TensorElementType.Float16)
                {
                    var halves = results[i].GetTensorDataAsSpan<Float16>();
                    var widened = new float[halves.Length];
                    for (var j = 0; j < halves.Length; j++)
                    {
                        widened[j] = (float)BitConverter.UInt16BitsToHalf(halves[j].value);
                    }

                    outputs[session.OutputNames[i]] = widened;
                }
            }

            return outputs;
        }
        finally
        {
            values.ForEach(v => v.Dispose());
        }
    }

    /// <summary>
    /// Cosine similarity of two models' first outputs over every holdout set folder under
    /// <paramref name="data"/> (all values together, as the engine's Cosine metric), from ONNX Runtime.
    /// </summary>
    public static double Cosine(string originalPath, string candidatePath, string data)
    {
        double dot = 0, originalEnergy = 0, candidateEnergy = 0;
        foreach (var set in HoldoutSets.In(data))
        {
            var inputs = Fixtures.Inputs(set);
            var original = Run(originalPath, inputs).First().Value;
            var candidate = Run(candidatePath, inputs).First().Value;
            for (var i = 0; i < original.Length; i++)
            {
                dot += (double)original[i] * candidate[i];
                originalEnergy += (double)original[i] * original[i];
                candidateEnergy += (double)candidate[i] * candidate[i];
            }
        }

        return dot / Math.Sqrt(originalEnergy * candidateEnergy);
    }

    /// <summary>The element types ONNX Runtime reports for the model's inputs and outputs, by name.</summary>
    public static Dictionary<string, TensorElementType> IoElementTypes(string modelPath)
    {
        using var session = new InferenceSession(modelPath);
        return session.InputMetadata.Concat(session.OutputMetadata)
            .ToDictionary(p => p.Key, p => p.Value.ElementDataType);
    }

    /// <summary>Top-1 class per row of a [rows, classes] output.</summary>
    public static int[] ArgMax(float[] logits, int classes)
    {
        var result = new int[logits.Length / classes];
        for (var row = 0; row < result.Length; row++)
        {
            var span = logits.AsSpan(row * classes, classes);
            var best = 0;
            for (var c = 1; c < classes; c++)
            {
                if (span[c] > span[best])
                {
                    best = c;
                }
            }

            result[row] = best;
        }

        return result;
    }

    private static OrtValue ToOrtValue(Tensor tensor)
    {
        var shape = tensor.Dims.ToArray();
        return tensor.DataType switch
        {
            DataType.Float => OrtValue.CreateTensorValueFromMemory(tensor.ToArray<float>(), shape),
            DataType.Float16 => OrtValue.CreateTensorValueFromMemory(
                Array.ConvertAll(tensor.ToArray<Half>(), h => new Float16(BitConverter.HalfToUInt16Bits(h))), shape),
            DataType.Int64 => OrtValue.CreateTensorValueFromMemory(tensor.ToArray<long>(), shape),
            DataType.Int32 => OrtValue.CreateTensorValueFromMemory(tensor.ToArray<int>(), shape),
            DataType.Bool => OrtValue.CreateTensorValueFromMemory(tensor.ToArray<bool>(), shape),
            _ => throw new NotSupportedException($"test input of type {tensor.DataType}"),
        };
    }
}
