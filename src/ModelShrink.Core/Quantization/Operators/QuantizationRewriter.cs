using System.Collections.Concurrent;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Quantization.Operators;

/// <summary>What the operator quantizers are asked to do.</summary>
/// <param name="Scheme">How weights map to 8 bits.</param>
/// <param name="PerChannel">One scale per output channel instead of per tensor.</param>
/// <param name="Form">The form to use for every node, or null for each operator's preferred form.</param>
/// <param name="MatMulConstBOnly">Quantize only MatMuls whose B is a weight (ONNX Runtime's default for dynamic quantization).</param>
public sealed record QuantizationSettings(QuantScheme Scheme, bool PerChannel, QuantForm? Form, bool MatMulConstBOnly = true);

/// <summary>
/// The state of one quantization of one model, shared by the operator quantizers: which weights are
/// quantized (each once, however many nodes read it), the initializers, weight-only chains,
/// DequantizeLinear and DynamicQuantizeLinear nodes made so far (one per weight or activation and
/// graph), what the model's opset allows, and the counters and warnings for the report.
/// </summary>
public sealed class QuantizationRewriter
{
    /// <summary>ONNX Runtime's contrib domain.</summary>
    public const string MicrosoftDomain = "com.microsoft";

    private readonly Dictionary<WeightKey, QuantizedWeight> quantized = [];
    private readonly Dictionary<WeightKey, Value> data = [];
    private readonly Dictionary<WeightKey, (Value Data, Value Scale, Value ZeroPoint)> initializers = [];
    private readonly Dictionary<(WeightKey, Graph, QuantForm), Value> dequantized = [];
    private readonly Dictionary<(Value, Graph), (Value Data, Value Scale, Value ZeroPoint)> dynamicallyQuantized = [];
    private readonly DequantizeMode dequantizeMode;
    private readonly WeightFinder weights;
    private readonly bool weightOnlyAvailable;
    private long requiredOpset;
    private bool fellBackToPerTensor;
    private bool usedContrib;
    private bool usedContribQuantize;

    /// <summary>Starts a quantization of <paramref name="model"/>.</summary>
    public QuantizationRewriter(Model model, QuantizationSettings settings, QuantizerContext context)
    {
        Model = model;
        Settings = settings;
        Context = context;
        weights = new WeightFinder(context);
        var current = model.Opsets.Default;
        IntegerAvailable = current >= 10 || OpsetRaise.CanRaise(model, 10);
        weightOnlyAvailable = current >= 7 || OpsetRaise.CanRaise(model, 7);
        dequantizeMode = current >= 13 || OpsetRaise.CanRaise(model, 13) ? DequantizeMode.PerAxis
            : IntegerAvailable ? DequantizeMode.PerTensorOnly
            : DequantizeMode.Contrib;
    }

    private enum DequantizeMode
    {
        PerAxis,
        PerTensorOnly,
        Contrib,
    }

    /// <summary>The model being rewritten.</summary>
    public Model Model { get; }

    /// <summary>The settings.</summary>
    public QuantizationSettings Settings { get; }

    /// <summary>Where warnings go.</summary>
    public QuantizerContext Context { get; }

    /// <summary>Whether the integer ops (DynamicQuantizeLinear, MatMulInteger, ConvInteger; opset 10) can be used.</summary>
    public bool IntegerAvailable { get; }

    /// <summary>Named counts for the report.</summary>
    public Dictionary<string, long> Counters { get; } = [];

    /// <summary>Adds <paramref name="amount"/> to a counter.</summary>
    public void Count(string counter, long amount = 1) => Counters[counter] = Counters.GetValueOrDefault(counter) + amount;

    /// <summary>
    /// The form for a node of <paramref name="quantizer"/>: the requested one, else its preferred one.
    /// The integer form needs opset 10 (else weight-only), weight-only needs opset 7 (else DequantizeLinear).
    /// </summary>
    public QuantForm FormFor(IOperatorQuantizer quantizer)
    {
        var form = Settings.Form ?? quantizer.PreferredForm;
        if (form == QuantForm.Integer && !IntegerAvailable)
        {
            form = QuantForm.WeightOnly;
        }

        return form == QuantForm.WeightOnly && !weightOnlyAvailable ? QuantForm.Dequantize : form;
    }

    /// <summary>
    /// The channel axis to quantize along: <paramref name="axis"/> when per-channel was asked and the
    /// form can express it, else -1 (per tensor). The DequantizeLinear form needs the axis attribute
    /// (opset 13); when the opset cannot be raised that far the weight falls back to per tensor.
    /// </summary>
    public int ChannelAxis(QuantForm form, int axis)
    {
        if (!Settings.PerChannel)
        {
            return -1;
        }

        if (form == QuantForm.Dequantize && dequantizeMode == DequantizeMode.PerTensorOnly)
        {
            fellBackToPerTensor = true;
            return -1;
        }

        return axis;
    }

    /// <summary>
    /// The weight read by input <paramref name="input"/> of <paramref name="node"/> when it can be
    /// quantized (see <see cref="WeightFinder.Find"/>), else null.
    /// </summary>
    public Value? Weight(Node node, int input, int? rank = null) => weights.Find(node, input, rank);

    /// <summary>Quantizes every planned weight once, in parallel; plans whose weight could not be quantized are dropped.</summary>
    public IReadOnlyList<NodePlan> QuantizeWeights(IReadOnlyList<NodePlan> plans)
    {
        var keys = plans.SelectMany(p => p.Weights.Select(w => w.Key)).Distinct().ToArray();
        var results = new ConcurrentDictionary<WeightKey, QuantizedWeight>();
        var failed = new ConcurrentBag<WeightKey>();
        Parallel.ForEach(keys, key =>
        {
            try
            {
                results[key] = QuantizeOne(key);
            }
            catch (WeightQuantizer.NonFiniteWeightException)
            {
                failed.Add(key);
            }
        });
        foreach (var key in failed)
        {
            weights.Warn(key.Weight, ErrorCodes.QuantWeightSkipped, $"weight '{key.Weight.Name}' holds NaN or infinite values; it stays float32");
        }

        foreach (var (key, weight) in results)
        {
            quantized[key] = weight;
        }

        Count("weights quantized", results.Keys.Select(k => k.Weight).Distinct().Count());
        if (Context.Rounding is { } rounding)
        {
            var reconstructed = rounding.Rounded.ToHashSet(StringComparer.Ordinal);
            Count(IWeightRounding.WeightsRounded, results.Keys.Select(k => k.Weight.Name).Distinct().Count(reconstructed.Contains));
        }
        return plans.Where(p => p.Weights.All(w => quantized.ContainsKey(w.Key))).ToArray();
    }

    /// <summary>The quantized tensor of a planned weight.</summary>
    public QuantizedWeight Quantized(WeightKey key) => quantized[key];

    /// <summary>
    /// The initializers (data, scale, zero point) of a quantized weight as integer operators and
    /// DequantizeLinear take them, made once in the weight's own graph.
    /// </summary>
    public (Value Data, Value Scale, Value ZeroPoint) Initializers(WeightKey key)
    {
        if (!initializers.TryGetValue(key, out var values))
        {
            var weight = quantized[key];
            var graph = key.Weight.Graph;
            var name = key.Weight.Name;
            values = (
                Data(key),
                AddInitializer(graph, weight.ScaleTensor(graph.UniqueName(name + "_scale"))),
                AddInitializer(graph, weight.ZeroPointTensor(graph.UniqueName(name + "_zero_point"))));
            initializers[key] = values;
        }

        return values;
    }

    // The quantized data initializer, one per weight whichever forms read it.
    private Value Data(WeightKey key)
    {
        if (!data.TryGetValue(key, out var value))
        {
            var graph = key.Weight.Graph;
            value = AddInitializer(graph, quantized[key].DataTensor(graph.UniqueName(key.Weight.Name + "_quantized")));
            data[key] = value;
        }

        return value;
    }

    /// <summary>Points each planned weight input of a weight-only or DequantizeLinear plan at the rebuilt float weight.</summary>
    public void ReadDequantizedWeights(NodePlan plan)
    {
        foreach (var (input, key) in plan.Weights)
        {
            plan.Node.SetInput(input, Dequantized(key, plan.Node, plan.Form));
        }
    }

    /// <summary>The float weight rebuilt from its quantized form, for a weight-only or DequantizeLinear node.</summary>
    public Value Dequantized(WeightKey key, Node consumer, QuantForm form) =>
        form == QuantForm.WeightOnly ? Folded(key) : DequantizeLinear(key, consumer);

    /// <summary>
    /// The float weight rebuilt as Mul(Cast(q) [- zero point], scale) with the scale and zero point
    /// shaped to broadcast along the channel axis: one chain per weight, placed at the start of the
    /// weight's own graph, so subgraphs that share the weight share its folded float copy.
    /// </summary>
    private Value Folded(WeightKey key)
    {
        if (!dequantized.TryGetValue((key, key.Weight.Graph, QuantForm.WeightOnly), out var value))
        {
            var weight = quantized[key];
            var graph = key.Weight.Graph;
            var name = key.Weight.Name;
            var shape = weight.PerTensor ? [] : Enumerable.Range(0, weight.Dims.Length - weight.Axis).Select(i => i == 0 ? (long)weight.Scales.Length : 1L).ToArray();
            var first = graph.Nodes[0];
            var scale = AddInitializer(graph, weight.ScaleTensor(graph.UniqueName(name + "_scale"), shape));
            value = AddNode(first, "Cast", [Data(key)], [name + "_cast"], name + "_Cast", Attribute.FromInt("to", (long)DataType.Float)).Outputs[0]!;
            if (weight.ZeroPoints.Any(z => z != 0))
            {
                var zeroPoint = AddInitializer(graph, Tensor.FromArray<float>(graph.UniqueName(name + "_zero_point"), shape,
                    Array.ConvertAll(weight.ZeroPoints, z => (float)z)));
                value = AddNode(first, "Sub", [value, zeroPoint], [name + "_centered"], name + "_Sub").Outputs[0]!;
            }

            value = AddNode(first, "Mul", [value, scale], [name + "_dequantized"], name + "_Mul").Outputs[0]!;
            dequantized[(key, graph, QuantForm.WeightOnly)] = value;
        }

        return value;
    }

    /// <summary>
    /// The float weight rebuilt by a DequantizeLinear in <paramref name="consumer"/>'s graph (one per
    /// weight and graph, placed before its first consumer there).
    /// </summary>
    private Value DequantizeLinear(WeightKey key, Node consumer)
    {
        var graph = consumer.Graph;
        if (!dequantized.TryGetValue((key, graph, QuantForm.Dequantize), out var value))
        {
            var (data, scale, zeroPoint) = Initializers(key);
            value = AddQdqNode(graph, "DequantizeLinear", [data, scale, zeroPoint], key.Weight.Name + "_dequantized",
                key.Weight.Name + "_DequantizeLinear", consumer, quantized[key].Axis).Outputs[0]!;
            dequantized[(key, graph, QuantForm.Dequantize)] = value;
        }

        return value;
    }

    /// <summary>
    /// Adds a QuantizeLinear or DequantizeLinear node (with an <c>axis</c> attribute when
    /// <paramref name="axis"/> is not negative) before <paramref name="before"/>, or at the end of
    /// <paramref name="graph"/>, in the form the model's opset allows: the default domain (noting
    /// opset 10, or 13 with an axis), or com.microsoft when even 10 is out of reach (MSH2203).
    /// </summary>
    public Node AddQdqNode(Graph graph, string opType, Value?[] inputs, string output, string name, Node? before, int axis = -1)
    {
        var attributes = axis >= 0 ? new[] { Attribute.FromInt("axis", axis) } : [];
        string domain;
        if (dequantizeMode == DequantizeMode.Contrib)
        {
            domain = MicrosoftDomain;
            usedContrib = true;
            usedContribQuantize |= opType == "QuantizeLinear";
        }
        else
        {
            domain = "";
            Require(axis >= 0 ? 13 : 10);
        }

        return graph.AddNode(opType, inputs, [output], attributes, domain, graph.UniqueNodeName(name), before);
    }

    /// <summary>Notes that the new nodes need the default opset to reach <paramref name="opset"/> (raised in <see cref="Finish"/>; the caller checked it can be).</summary>
    public void RequireOpset(long opset) => Require(opset);

    /// <summary>
    /// The activation quantized at run time by a DynamicQuantizeLinear (uint8 data, scale, zero point)
    /// in <paramref name="consumer"/>'s graph, one per activation and graph as ONNX Runtime's tool does.
    /// </summary>
    public (Value Data, Value Scale, Value ZeroPoint) DynamicallyQuantized(Value activation, Node consumer)
    {
        var graph = consumer.Graph;
        if (!dynamicallyQuantized.TryGetValue((activation, graph), out var values))
        {
            var node = AddNode(consumer, "DynamicQuantizeLinear", [activation],
                [activation.Name + "_quantized", activation.Name + "_scale", activation.Name + "_zero_point"],
                activation.Name + "_QuantizeLinear");
            values = (node.Outputs[0]!, node.Outputs[1]!, node.Outputs[2]!);
            dynamicallyQuantized[(activation, graph)] = values;
        }

        return values;
    }

    /// <summary>Adds a constant to <paramref name="graph"/> under a unique name derived from the tensor's.</summary>
    public Value AddInitializer(Graph graph, Tensor tensor) =>
        graph.AddInitializer(graph.FindValue(tensor.Name) is null ? tensor : tensor.WithName(graph.UniqueName(tensor.Name)));

    /// <summary>Adds a default-domain node before <paramref name="before"/>, noting the opset its operator needs.</summary>
    public Node AddNode(Node before, string opType, IEnumerable<Value?> inputs, string[] outputs, string name, params Attribute[] attributes)
    {
        // Integer operators arrived in opset 10; Mul/Add/Sub got numpy broadcasting in 7; Cast's `to` became an int in 6.
        Require(opType is "DynamicQuantizeLinear" or "MatMulInteger" or "ConvInteger" ? 10 : 7);
        var graph = before.Graph;
        return graph.AddNode(opType, inputs, outputs, attributes, "", graph.UniqueNodeName(name), before);
    }

    /// <summary>
    /// Turns <paramref name="node"/> into the last node of its rewritten chain (a Mul or Add), so its
    /// output value, name and declared type stay as they were for every reader.
    /// </summary>
    public static void Become(Node node, string opType, params Value?[] inputs)
    {
        node.OpType = opType;
        node.Domain = "";
        node.Attributes.Clear();
        node.TruncateInputs(0);
        foreach (var input in inputs)
        {
            node.AddInput(input);
        }
    }

    /// <summary>
    /// Ends the rewrite: removes float weights nobody reads any more, raises the opset to what the new
    /// nodes need (the constructor checked that only the number changes), imports com.microsoft where
    /// it was used, and warns about fallbacks.
    /// </summary>
    public void Finish()
    {
        foreach (var weight in quantized.Keys.Select(k => k.Weight).Distinct())
        {
            WeightFinder.RemoveIfUnused(weight);
        }

        if (weights.Skipped > 0)
        {
            Count("weights skipped", weights.Skipped);
        }

        var current = Model.Opsets.Default;
        if (requiredOpset > current)
        {
            OpsetRaise.Raise(Model, requiredOpset);
            Counters["opset raised to"] = requiredOpset;
        }

        if (usedContrib)
        {
            if (Model.Opsets[MicrosoftDomain] is null)
            {
                Model.Opsets.Set(MicrosoftDomain, 1);
            }

            var blockers = OpsetRaise.Blockers(Model, 10);
            Context.Warn(ErrorCodes.QuantContribDequantize,
                $"the model's opset {current} is below 10 (DequantizeLinear) and cannot be raised unchanged ({OpsetRaise.Describe(blockers)}); " +
                (usedContribQuantize
                    ? "QuantizeLinear and DequantizeLinear use their com.microsoft versions, which only ONNX Runtime runs"
                    : "weights are dequantized with com.microsoft.DequantizeLinear, which only ONNX Runtime runs"));
        }

        if (fellBackToPerTensor)
        {
            Context.Warn(ErrorCodes.QuantPerTensorFallback,
                $"per-channel DequantizeLinear needs opset 13 and the model's opset {current} cannot be raised unchanged " +
                $"({OpsetRaise.Describe(OpsetRaise.Blockers(Model, 13))}); weights were quantized per tensor");
        }
    }

    private QuantizedWeight QuantizeOne(WeightKey key)
    {
        var tensor = key.Weight.ConstantTensor!;
        var values = FloatMemory.Of(tensor);
        var dims = tensor.Dims.ToArray();
        var scheme = key.Type is { } type && type != Settings.Scheme.Type
            ? QuantScheme.Default(type, reduceRange: Settings.Scheme.ReduceRange)
            : Settings.Scheme;
        // Layer-wise reconstruction (GPTQ), when an earlier pass measured this weight's layer.
        var adjust = Context.Rounding?.For(key.Weight.Name, dims, Context.Cancellation);
        var weight = key.ChannelAxis < 0
            ? WeightQuantizer.PerTensor(values, dims, scheme, adjust)
            : WeightQuantizer.PerChannel(values, dims, key.ChannelAxis, scheme, adjust);
        return key.Transposed ? weight.Transpose2D() : weight;
    }

    private void Require(long opset) => requiredOpset = Math.Max(requiredOpset, opset);
}
