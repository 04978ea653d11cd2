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

        if (FindBias(layer.StudentOutput, t.Length, rank, axis) is null && CanAddBias(layer.StudentOutput.Producer!, rank, axis))
        {
            var producer = layer.StudentOutput.Producer!;
            producer.AddInput(producer.Graph.AddInitializer(
                Tensor.FromArray<float>(producer.Graph.UniqueName(layer.Output + "_bias"), [s.Length], new float[s.Length])));
        }

        if (FindBias(layer.StudentOutput, t.Length, rank, axis) is not { } bias)
        {
            return null;
        }

        var values = bias.Value.Initializer!.ToArray<float>();
        var largest = 0.0;
        var after = bias.Reader != layer.StudentOutput.Producer;
        var total = after ? applied.GetValueOrDefault(layer.Output) ?? new double[t.Length] : null;
        for (var c = 0; c < values.Length; c++)
        {
            values[c] += (float)((t[c] - s[c]) * bias.Factor);
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

        var target = bias.Value;
        if (target.Uses.Count > 1)
        {
            // A bias shared with other readers gets a copy of its own for this layer.
            target = target.Graph.AddInitializer(Tensor.FromArray<float>(target.Graph.UniqueName(target.Name + "_corrected"), target.Initializer!.Dims.ToArray(), values));
            bias.Reader.SetInput(bias.Slot, target);
        }
        else
        {
            target.Graph.ReplaceInitializer(target, Tensor.FromArray<float>(target.Name, target.Initializer!.Dims.ToArray(), values));
        }

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
                        if (t.Channels == 0 || (FindBias(layer.StudentOutput, t.Channels, t.Rank, t.Axis) is null && !CanAddBias(layer.StudentOutput.Producer!, t.Rank, t.Axis)))
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
        new(model, StatisticNames(active), context.ModelFile, copy =>
        {
            InGraphShift.Insert(copy, shifted.Select(n => (n, teacherMeans[n].Rank, teacherMeans[n].Axis)));
            AddMeans(copy, active);
        });

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

    // The float bias that feeds a layer's output, as a constant with one value per channel: the bias
    // input of a Conv/Gemm, the constant operand of the Add that ends an integer chain, or of the one Add
    // that reads a MatMul's output. Gemm's bias is scaled by beta, so its shift is divided by beta.
    private static Bias? FindBias(Value output, int channels, int rank, int axis)
    {
        var producer = output.Producer!;
        // Conv's B is 1-D [M] by definition; Gemm's C broadcasts to [M, N] like any Add operand.
        if (producer.OpType is "Conv" or "Gemm" && producer.Inputs.Count > 2
            && Usable(producer.Inputs[2], channels, producer.OpType == "Conv" ? 1 : rank, producer.OpType == "Conv" ? 0 : axis))
        {
            var beta = producer.OpType == "Gemm" ? producer.GetFloat("beta", 1f) : 1f;
            return beta == 0f ? null : new Bias(producer.Inputs[2]!, producer, 2, 1.0 / beta);
        }

        if (producer.OpType == "Add" && ConstantOperand(producer, output: null, channels, rank, axis) is { } own)
        {
            return own;
        }

        if (output.Uses is [{ Node: { OpType: "Add", Domain: "" or "ai.onnx" } add }] && !output.IsGraphOutput)
        {
            return ConstantOperand(add, output, channels, rank, axis);
        }

        return null;
    }

    // A Conv or Gemm computing in float32 without a bias (the form exporters leave before a batch norm)
    // can be given one: a 1-D bias along the channel axis, one value per output channel.
    private static bool CanAddBias(Node producer, int rank, int axis) =>
        producer.Inputs.Count == 2 && producer.Inputs[0]?.ElementType is null or DataType.Float
        && ((producer.Is("Conv") && rank >= 3 && axis == 1)
            || (producer.Is("Gemm") && rank == 2 && axis == 1 && producer.GetFloat("beta", 1f) != 0f));

    private static Bias? ConstantOperand(Node add, Value? output, int channels, int rank, int axis)
    {
        for (var slot = 0; slot < 2 && slot < add.Inputs.Count; slot++)
        {
            if (add.Inputs[slot] is { } operand && operand != output && Usable(operand, channels, rank, axis))
            {
                return new Bias(operand, add, slot, 1.0);
            }
        }

        return null;
    }

    // An initializer (not a graph input) of float32 with one value per channel that, broadcast (numpy
    // rules: aligned on the right) against an output of rank `rank`, lies along the channel axis.
    private static bool Usable(Value? value, int channels, int rank, int axis)
    {
        if (value is not { Initializer: { DataType: DataType.Float } tensor, IsGraphInput: false } || tensor.ElementCount != channels
            || tensor.Dims.Count > rank)
        {
            return false;
        }

        var along = -1;
        for (var i = 0; i < tensor.Dims.Count; i++)
        {
            if (tensor.Dims[i] != 1)
            {
                if (along >= 0)
                {
                    return false;
                }

                along = rank - tensor.Dims.Count + i;
            }
        }

        return along == axis || (along < 0 && channels == 1);
    }

    private sealed record Layer(string Output, int Axis, Value StudentOutput);

    private sealed record Bias(Value Value, Node Reader, int Slot, double Factor);
}
