using ModelShrink.Core.Calibration;
using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Core.Validation.Running;
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
/// axis), the means taken over the calibration data. A layer's shift must be measured with every earlier
/// correction in place: correcting every layer from one plain measurement over-corrects (the shift seen
/// downstream already contains upstream errors that upstream corrections remove; digits-cnn and
/// digits-transformer got worse). Instead of one run per layer, the teacher and the student run side by
/// side over the data, batch by batch, and the student copy shifts each layer's output in the graph by
/// the teacher's minus its own mean of that batch (<see cref="InGraphShift"/>), so every layer is measured
/// behind corrected predecessors in one pass; up to <see cref="BiasCorrectionOptions.Rounds"/> plain runs
/// of the corrected student then remove what remains. See docs/implementation_notes.md.
/// </summary>
public sealed class BiasCorrectionPass(BiasCorrectionOptions options) : IPass
{
    /// <summary>Counter: layers whose bias was shifted.</summary>
    public const string LayersCorrected = "layers corrected";

    /// <summary>Counter: quantized layers left alone (no float bias to shift, or a bias that is an interface value).</summary>
    public const string LayersSkipped = "layers skipped";

    /// <summary>Counter: ONNX Runtime passes over the data (the teacher's, the student's, one per refinement round).</summary>
    public const string Runs = "passes over the data";

    /// <summary>Counter (only with refinement rounds): the largest per-channel mean error the last round measured, in millionths of the first shift's.</summary>
    public const string ResidualPpm = "residual (ppm of the first round)";

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

        var (teacherMeans, studentMeans, active) = MeasurePaired(teacher, model, layers, skipped, context);
        var corrected = new HashSet<string>(StringComparer.Ordinal);
        var applied = new Dictionary<string, double[]>(StringComparer.Ordinal);
        double firstResidual = 0, lastResidual = 0;
        var runs = 2;
        for (var round = 0; ; round++)
        {
            var residual = 0.0;
            foreach (var layer in active.ToArray())
            {
                var t = teacherMeans[layer.Output];
                var s = studentMeans.TryGetValue(layer.Output, out var m) ? m.Means : [];
                if (applied.TryGetValue(layer.Output, out var earlier) && earlier.Length == s.Length)
                {
                    // The bias lies after the measured value (the Add after a MatMul): the shifts
                    // applied so far are not in what was measured.
                    for (var c = 0; c < s.Length; c++)
                    {
                        s[c] += earlier[c];
                    }
                }

                if (Shift(layer, t.Means, s, t.Rank, t.Axis, applied) is not { } largest)
                {
                    skipped.Add(layer.Output);
                    active.Remove(layer);
                    continue;
                }

                residual = Math.Max(residual, largest);
                corrected.Add(layer.Output);
            }

            firstResidual = round == 0 ? residual : firstResidual;
            lastResidual = residual;
            if (round >= options.Rounds || active.Count == 0 || (round > 0 && residual <= options.Tolerance * firstResidual))
            {
                break;
            }

            // A refinement round: the student with every correction in place, measured plainly.
            context.Cancellation.ThrowIfCancellationRequested();
            studentMeans = Means(model, active, context);
            runs++;
        }

        if (skipped.Count > 0)
        {
            context.Warn(ErrorCodes.ReconstructLayerSkipped,
                $"bias correction skipped {skipped.Count} changed layer(s) with no float bias to shift: {string.Join(", ", skipped.Take(10))}{(skipped.Count > 10 ? ", ..." : "")}",
                "Reconstruct");
        }

        var counters = Counters(corrected.Count, skipped.Count);
        counters[Runs] = runs;
        if (runs > 2)
        {
            // The largest per-channel mean error the last refinement round measured (before its shift), in millionths of the first shift's.
            counters[ResidualPpm] = firstResidual > 0 ? (long)Math.Round(lastResidual / firstResidual * 1e6) : 0;
        }

        return PassResult.FromCounters(counters);
    }

    private static Dictionary<string, long> Counters(long corrected, long skipped) =>
        new() { [LayersCorrected] = corrected, [LayersSkipped] = skipped };

    // Shifts the layer's bias by t - s (a zero bias is first given to a float Conv/Gemm without one,
    // only once both means are in hand and agree on the channels); returns the largest |t - s|, or
    // null when the means do not agree and nothing changed.
    private static double? Shift(Layer layer, double[] t, double[] s, int rank, int axis, Dictionary<string, double[]> applied)
    {
        if (t.Length != s.Length)
        {
            return null;
        }

        if (LayerBias.Find(layer.StudentOutput, t.Length, rank, axis) is null && LayerBias.CanAdd(layer.StudentOutput.Producer!, rank, axis))
        {
            LayerBias.AddZero(layer.StudentOutput.Producer!, s.Length);
        }

        if (LayerBias.Find(layer.StudentOutput, t.Length, rank, axis) is not { } bias)
        {
            return null;
        }

        var largest = 0.0;
        var after = bias.Reader != layer.StudentOutput.Producer;
        var total = after ? applied.GetValueOrDefault(layer.Output) ?? new double[t.Length] : null;
        for (var c = 0; c < t.Length; c++)
        {
            largest = Math.Max(largest, Math.Abs(t[c] - s[c]));
            if (total is not null)
            {
                total[c] += t[c] - s[c];
            }
        }

        if (total is not null)
        {
            applied[layer.Output] = total;
        }

        bias.Shift(c => t[c] - s[c]);
        return largest;
    }

    // The student's node for a teacher layer is "changed" when its op changed (MatMulNBits, the Mul/Add
    // end of an integer chain), its weight is no longer a float constant (weight-only Cast/Mul,
    // DequantizeLinear), or its float weight holds other values (pruned).
    private static bool IsChanged(Node teacher, Node student) =>
        student.OpType != teacher.OpType || student.Inputs.Count < 2 || student.Inputs[1]?.ConstantTensor is not { DataType: DataType.Float } weight
        || !weight.GetRawData().Span.SequenceEqual(teacher.Inputs[1]!.ConstantTensor!.GetRawData().Span);

    // Per-channel means of every layer output over the calibration data, one plain run of the model.
    private Dictionary<string, ChannelMeans> Means(Model model, IReadOnlyList<Layer> layers, PassContext context)
    {
        var means = layers.ToDictionary(l => l.Output, l => new ChannelMeans(l.Axis > 0), StringComparer.Ordinal);
        using var session = new AugmentedSession(model, StatisticNames(layers), context.ModelFile, copy => AddMeans(copy, layers));
        foreach (var batch in Batches(model, context))
        {
            Fold(session.Run(batch), means, null);
        }

        return means;
    }

    // One pass of the teacher and of the student side by side over the data, batch by batch: the teacher's
    // per-channel means of the batch are fed to the student copy that InGraphShift prepared, so each
    // student layer is measured with every earlier layer already corrected (on that batch). Layers with
    // no bias to shift are left out (skipped) once the first batch has told their rank and channels.
    // Both models hand back per-channel means computed in the graph, never whole activations.
    private (Dictionary<string, ChannelMeans> Teacher, Dictionary<string, ChannelMeans> Student, List<Layer> Active) MeasurePaired(
        Model teacher, Model model, List<Layer> layers, List<string> skipped, PassContext context)
    {
        var teacherMeans = layers.ToDictionary(l => l.Output, l => new ChannelMeans(l.Axis > 0), StringComparer.Ordinal);
        var studentMeans = layers.ToDictionary(l => l.Output, l => new ChannelMeans(l.Axis > 0), StringComparer.Ordinal);
        var active = new List<Layer>();
        using var teacherSession = new AugmentedSession(teacher, StatisticNames(layers), context.ModelFile, copy => AddMeans(copy, layers));
        AugmentedSession? studentSession = null;
        HashSet<string> shifted = [];
        try
        {
            var first = true;
            foreach (var batch in Batches(model, context))
            {
                var ofBatch = new Dictionary<string, double[]>(StringComparer.Ordinal);
                Fold(teacherSession.Run(batch), teacherMeans, ofBatch);
                if (first)
                {
                    foreach (var layer in layers)
                    {
                        var t = teacherMeans[layer.Output];
                        if (t.Channels == 0 || (LayerBias.Find(layer.StudentOutput, t.Channels, t.Rank, t.Axis) is null && !LayerBias.CanAdd(layer.StudentOutput.Producer!, t.Rank, t.Axis)))
                        {
                            skipped.Add(layer.Output);
                        }
                        else
                        {
                            active.Add(layer);
                        }
                    }

                    shifted = active.Select(l => l.Output).ToHashSet(StringComparer.Ordinal);
                    studentSession = OpenShifted(model, active, shifted, teacherMeans, context);
                }

                List<OutputValues> student;
                try
                {
                    student = studentSession!.Run(batch with { Inputs = Feed(batch, shifted, teacherMeans, ofBatch) });
                }
                catch (ModelShrinkException) when (first && Differing(model, active, teacherMeans, batch, context) is { Count: > 0 } differing)
                {
                    // Channel pruning changed some layers' channels: those run without the in-graph shift
                    // (and are skipped later, their means not matching the teacher's).
                    studentSession!.Dispose();
                    studentSession = null;
                    shifted.ExceptWith(differing);
                    studentSession = OpenShifted(model, active, shifted, teacherMeans, context);
                    student = studentSession.Run(batch with { Inputs = Feed(batch, shifted, teacherMeans, ofBatch) });
                }

                Fold(student, studentMeans, null);
                first = false;
            }
        }
        finally
        {
            studentSession?.Dispose();
        }

        return (teacherMeans, studentMeans, active);
    }

    // The calibration data's batches, each checked against the model's inputs; none at all is MSH4001.
    private IEnumerable<HoldoutBatch> Batches(Model model, PassContext context)
    {
        const string setting = "Reconstruct";
        var data = options.CalibrationData;
        var signature = ModelSignature.Of(model);
        var batches = 0;
        foreach (var batch in HoldoutReader.Open(data, signature, setting: setting).Batches())
        {
            context.Cancellation.ThrowIfCancellationRequested();
            HoldoutCheck.Check(batch, signature, data, setting);
            batches++;
            yield return batch;
        }

        if (batches == 0)
        {
            throw ModelShrinkException.Error(ErrorCodes.HoldoutUnreadable, "holds no samples", data, setting);
        }
    }

    private static string[] StatisticNames(IEnumerable<Layer> layers) =>
        layers.SelectMany(l => new[] { InGraphStatistics.ChannelMean(l.Output), InGraphStatistics.Shape(l.Output) }).ToArray();

    private static void AddMeans(Model copy, IEnumerable<Layer> layers) =>
        InGraphStatistics.AddChannelMeans(copy, layers.Select(l => (l.Output, l.Axis > 0)));

    // Adds one batch's in-graph means (with the shapes they were taken over) to `means`; `ofBatch`, when
    // given, receives the batch's own means per layer.
    private static void Fold(List<OutputValues> outputs, Dictionary<string, ChannelMeans> means, Dictionary<string, double[]>? ofBatch)
    {
        var byName = outputs.ToDictionary(o => o.Name, StringComparer.Ordinal);
        foreach (var (layer, accumulator) in means)
        {
            if (byName.TryGetValue(InGraphStatistics.ChannelMean(layer), out var mean) && byName.TryGetValue(InGraphStatistics.Shape(layer), out var shape))
            {
                var batch = accumulator.Add(shape.Values.Select(v => (long)v).ToArray(), mean.Values);
                if (ofBatch is not null)
                {
                    ofBatch[layer] = batch;
                }
            }
        }
    }

    // The batch's inputs and, for each shifted layer, the teacher's means of the batch.
    private static Dictionary<string, Tensor> Feed(HoldoutBatch batch, IEnumerable<string> shifted, Dictionary<string, ChannelMeans> teacherMeans,
        Dictionary<string, double[]> ofBatch)
    {
        var feed = new Dictionary<string, Tensor>(batch.Inputs, StringComparer.Ordinal);
        foreach (var layer in shifted)
        {
            feed[InGraphShift.InputName(layer)] = InGraphShift.Feed(layer, ofBatch[layer], teacherMeans[layer].Rank, teacherMeans[layer].Axis);
        }

        return feed;
    }

    // The student copy with the in-graph shifts of `shifted`, and every active layer's in-graph means.
    private static AugmentedSession OpenShifted(Model model, List<Layer> active, IReadOnlyCollection<string> shifted,
        Dictionary<string, ChannelMeans> teacherMeans, PassContext context) =>
        new(model, StatisticNames(active), context.ModelFile, addNodes: copy => AddMeans(copy, active),
            change: copy => InGraphShift.Insert(copy, shifted.Select(n => (n, teacherMeans[n].Rank, teacherMeans[n].Axis))));

    // The active layers whose output, run plainly on `batch`, has another rank or channel count than the
    // teacher's (channel pruning): they cannot take the teacher's means in the graph.
    private static HashSet<string> Differing(Model model, List<Layer> active, Dictionary<string, ChannelMeans> teacherMeans, HoldoutBatch batch, PassContext context)
    {
        var means = active.ToDictionary(l => l.Output, l => new ChannelMeans(l.Axis > 0), StringComparer.Ordinal);
        using (var plain = new AugmentedSession(model, StatisticNames(active), context.ModelFile, copy => AddMeans(copy, active)))
        {
            Fold(plain.Run(batch), means, null);
        }

        return means.Where(m => m.Value.Rank != teacherMeans[m.Key].Rank || m.Value.Channels != teacherMeans[m.Key].Channels)
            .Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
    }

    private sealed record Layer(string Output, int Axis, Value StudentOutput);
}
