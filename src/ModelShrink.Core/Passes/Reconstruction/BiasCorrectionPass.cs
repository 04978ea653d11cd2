using ModelShrink.Core.Calibration;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Reconstruction;

/// <summary>
/// Bias correction (Nagel et al., 2019, "Data-Free Quantization", §4.2, with empirical means): after
/// quantization or pruning, each changed (quantized or pruned) Conv/Gemm/MatMul whose output value has the same name in the teacher
/// (the float model before quantization) and in the student gets its float bias shifted by
/// teacher_mean - student_mean of that output, per output channel (Conv: axis 1; Gemm/MatMul: the last
/// axis), the means taken over the calibration data. Layers go in topological order and the student is
/// re-measured before each, so a layer's shift is measured with every earlier correction in place: one
/// ONNX Runtime run over the data per layer, plus one for the teacher. Correcting every layer from one
/// measurement over-corrects (the shift seen downstream already contains upstream errors that upstream
/// corrections remove) and made digits-transformer worse; see docs/implementation_notes.md.
/// </summary>
public sealed class BiasCorrectionPass(BiasCorrectionOptions options) : IPass
{
    /// <summary>Counter: layers whose bias was shifted.</summary>
    public const string LayersCorrected = "layers corrected";

    /// <summary>Counter: quantized layers left alone (no float bias to shift, or a bias that is an interface value).</summary>
    public const string LayersSkipped = "layers skipped";

    private static readonly HashSet<string> LayerOps = ["Conv", "Gemm", "MatMul"];

    /// <inheritdoc/>
    public string Name => "bias-correction";

    /// <inheritdoc/>
    public IReadOnlyList<PassData> Requires => [SharedPassData.Teacher];

    /// <inheritdoc/>
    public PassResult Run(Model model, PassContext context)
    {
        if (context.Get(SharedPassData.Teacher) is not { IsSet: true } captured)
        {
            throw context.Error(ErrorCodes.ReconstructNoTeacher, "bias correction needs the model as it was before quantization, and none was captured", "Reconstruct");
        }

        var teacher = captured.Load(context.ModelFile);
        var student = model.Graph.Values.ToDictionary(v => v.Name, StringComparer.Ordinal);
        var layers = new List<Layer>();
        var skipped = new List<string>();
        foreach (var node in teacher.Graph.Nodes)
        {
            if (!LayerOps.Contains(node.OpType) || node.Domain is not ("" or "ai.onnx") || node.Inputs.Count < 2
                || node.Inputs[1]?.ConstantTensor is not { DataType: DataType.Float } || node.Outputs[0] is not { } output
                || !student.TryGetValue(output.Name, out var studentOutput) || studentOutput.Producer is not { } producer
                || !IsChanged(node, producer))
            {
                continue;
            }

            layers.Add(new Layer(output.Name, node.OpType == "Conv" ? 1 : -1, studentOutput));
        }

        if (layers.Count == 0)
        {
            return PassResult.FromCounters(Counters(0, 0));
        }

        var teacherMeans = Means(teacher, layers, context);
        var corrected = 0;
        foreach (var layer in layers)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var (t, rank, axis) = teacherMeans[layer.Output];
            if (LayerBias.Find(layer.StudentOutput, t.Length, rank, axis) is null && !LayerBias.CanAdd(layer.StudentOutput.Producer!, rank, axis))
            {
                skipped.Add(layer.Output);
                continue;
            }

            var s = Means(model, [layer], context)[layer.Output].Means;
            if (t.Length == s.Length && LayerBias.Find(layer.StudentOutput, t.Length, rank, axis) is null && LayerBias.CanAdd(layer.StudentOutput.Producer!, rank, axis))
            {
                // Only now that both means are in hand and agree on the channels: a zero bias to shift.
                LayerBias.AddZero(layer.StudentOutput.Producer!, s.Length);
            }

            if (t.Length != s.Length || LayerBias.Find(layer.StudentOutput, t.Length, rank, axis) is not { } bias)
            {
                skipped.Add(layer.Output);
                continue;
            }

            bias.Shift(c => t[c] - s[c]);
            corrected++;
        }

        if (skipped.Count > 0)
        {
            context.Warn(ErrorCodes.ReconstructLayerSkipped,
                $"bias correction skipped {skipped.Count} changed layer(s) with no float bias to shift: {string.Join(", ", skipped.Take(10))}{(skipped.Count > 10 ? ", ..." : "")}",
                "Reconstruct");
        }

        return PassResult.FromCounters(Counters(corrected, skipped.Count));
    }

    private static Dictionary<string, long> Counters(long corrected, long skipped) =>
        new() { [LayersCorrected] = corrected, [LayersSkipped] = skipped };

    // The student's node for a teacher layer is "changed" when its op changed (MatMulNBits, the Mul/Add
    // end of an integer chain), its weight is no longer a float constant (weight-only Cast/Mul,
    // DequantizeLinear), or its float weight holds other values (pruned).
    private static bool IsChanged(Node teacher, Node student) =>
        student.OpType != teacher.OpType || student.Inputs.Count < 2 || student.Inputs[1]?.ConstantTensor is not { DataType: DataType.Float } weight
        || !weight.GetRawData().Span.SequenceEqual(teacher.Inputs[1]!.ConstantTensor!.GetRawData().Span);

    // Per-channel means of every layer output over the calibration data (streaming sums in double).
    private Dictionary<string, Measured> Means(Model model, IReadOnlyList<Layer> layers, PassContext context)
    {
        var axes = layers.ToDictionary(l => l.Output, l => l.Axis, StringComparer.Ordinal);
        var sums = new Dictionary<string, (double[] Sum, long Count, int Rank, int Axis)>(StringComparer.Ordinal);
        AugmentedRun.ForEachBatch(model, axes.Keys, options.CalibrationData, context.ModelFile, "Reconstruct", output =>
        {
            var shape = output.Shape;
            if (shape.Length == 0)
            {
                return;
            }

            var axis = axes[output.Name] < 0 ? shape.Length - 1 : Math.Min(axes[output.Name], shape.Length - 1);
            var channels = (int)shape[axis];
            long inner = 1;
            for (var i = axis + 1; i < shape.Length; i++)
            {
                inner *= shape[i];
            }

            if (!sums.TryGetValue(output.Name, out var entry) || entry.Sum.Length != channels)
            {
                entry = (new double[channels], 0, shape.Length, axis);
            }

            var data = output.Values;
            var block = channels * inner;
            for (long start = 0; start + block <= data.Length; start += block)
            {
                for (var c = 0; c < channels; c++)
                {
                    double sum = 0;
                    var offset = start + c * inner;
                    for (long i = 0; i < inner; i++)
                    {
                        sum += data[offset + i];
                    }

                    entry.Sum[c] += sum;
                }
            }

            sums[output.Name] = entry with { Count = entry.Count + data.Length / Math.Max(1, channels) };
        }, context.Cancellation);
        return sums.ToDictionary(s => s.Key,
            s => new Measured(s.Value.Sum.Select(v => v / Math.Max(1, s.Value.Count)).ToArray(), s.Value.Rank, s.Value.Axis), StringComparer.Ordinal);
    }

    private sealed record Layer(string Output, int Axis, Value StudentOutput);

    private sealed record Measured(double[] Means, int Rank, int Axis);
}
