using ModelShrink.Core.Plans;
using ModelShrink.Core.Calibration;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Int4WeightOnly;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Core.Quantization;
using ModelShrink.Onnx.Ir;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Reconstruction;

/// <summary>Layer outputs as ONNX Runtime computes them, per batch.</summary>
internal sealed class LayerOutputs : Dictionary<string, List<(long[] Shape, float[] Values)>>;

/// <summary>
/// What the reconstruction tests share: a fixture's holdout split into calibration and held-out sets,
/// lossy quantization settings, and per-layer outputs and errors against the teacher from ONNX Runtime.
/// </summary>
internal static class ReconstructionHarness
{
    /// <summary>digits-cnn with lossy int8 (uint8 per-tensor, 7-bit); any other fixture with int4 (block 32).</summary>
    public static CompressionOptions Lossy(string fixture) => fixture == "digits-cnn"
        ? new CompressionOptions { Quantize = QuantizeMode.Int8, Int8 = new Int8DynamicOptions { WeightType = WeightType.UInt8, ReduceRange = true } }
        : new CompressionOptions { Quantize = QuantizeMode.Int4, Int4 = new Int4WeightOnlyOptions { BlockSize = 32 } };

    /// <summary>The fixture's first 4 holdout sets copied as calibration data, the next 4 as held-out data (<see cref="Fixtures.SplitHoldout"/>).</summary>
    public static (string Calibration, string HeldOut) Split(string fixture, TempDirectory temp) => Fixtures.SplitHoldout(fixture, temp.Path);

    /// <summary>The values named <paramref name="layers"/> (exposed as extra graph outputs) over <paramref name="data"/>, batch by batch, from ONNX Runtime.</summary>
    public static LayerOutputs Outputs(Model model, IReadOnlyList<string> layers, string data)
    {
        var outputs = new LayerOutputs();
        foreach (var layer in layers)
        {
            outputs[layer] = [];
        }

        AugmentedRun.ForEachBatch(model, layers, data, "test", "Holdout", o => outputs[o.Name].Add((o.Shape, o.Values)));
        return outputs;
    }

    /// <summary>Per layer: the mean over channels of |mean over samples and positions of (student - teacher)|, and the RMSE.</summary>
    public static Dictionary<string, (double MeanShift, double Rmse)> Errors(LayerOutputs teacher, LayerOutputs student)
    {
        var result = new Dictionary<string, (double, double)>();
        foreach (var (layer, batches) in teacher)
        {
            var shape = batches[0].Shape;
            var axis = shape.Length == 4 ? 1 : shape.Length - 1;
            var channels = (int)shape[axis];
            var inner = shape.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
            var sums = new double[channels];
            double squares = 0;
            long count = 0;
            for (var b = 0; b < batches.Count; b++)
            {
                var t = batches[b].Values;
                var s = student[layer][b].Values;
                Assert.HasCount(t.Length, s, $"{layer}: the student's output has another size");
                for (long i = 0; i < t.Length; i++)
                {
                    var d = (double)s[i] - t[i];
                    sums[i / inner % channels] += d;
                    squares += d * d;
                }

                count += t.Length;
            }

            var perChannel = count / channels;
            result[layer] = (sums.Average(x => Math.Abs(x / perChannel)), Math.Sqrt(squares / count));
        }

        return result;
    }
}
