using ModelShrink.Core.Calibration;
using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Core.Passes.Reconstruction.Layerwise;
using ModelShrink.Core.Quantization;
using ModelShrink.Core.Quantization.Operators;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Passes.Int8Static;

/// <summary>
/// "int8-static": calibrated int8 quantization in QDQ form, after onnxruntime.quantization.quantize_static.
/// In the main graph, each Conv, MatMul and Gemm gets its weight as an int8 initializer read by a
/// DequantizeLinear (per channel on the output axis, through the same operator quantizers and math
/// as int8-dynamic), its bias as int32 at input scale x weight scale, and QuantizeLinear ->
/// DequantizeLinear pairs on its activations and, where ONNX Runtime fuses them, on the operators
/// between compute nodes (<see cref="QdqPlacement"/>); ONNX Runtime then runs QLinearConv,
/// QLinearMatMul / MatMulIntegerToFloat, QGemm, QLinearAdd, ... and int8 MaxPool/Reshape. The
/// activation ranges are measured on the float model over the calibration data before anything
/// changes. A BatchNormalization after a quantized Conv is folded into it first.
/// </summary>
public sealed class Int8StaticPass(Int8StaticOptions options) : IPass
{
    private static readonly string[] ComputeOps = ["Conv", "MatMul", "Gemm"];

    // The opset a model below 10 that cannot simply take a higher number is upgraded to: per-channel DequantizeLinear needs 13.
    private const long UpgradedOpset = 13;

    /// <inheritdoc />
    public string Name => "int8-static";

    /// <inheritdoc />
    public IReadOnlyList<PassData> Uses => [SharedPassData.LayerStatistics];

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        var calibration = Validate(options, context);
        if (options.CalibrationFromHoldout)
        {
            context.Warn(ErrorCodes.StaticCalibratedOnHoldout,
                "no calibration data was named, so the holdout data calibrates the activation ranges; the accuracy measured on that same data may be optimistic (name separate Calibration data)",
                "Calibration");
        }

        var (counters, rewriter, ready, activationMatMuls, placement, modified) = Plan(model, context);
        if (placement is null)
        {
            context.Warn(ErrorCodes.QuantNothingQuantized,
                $"no node of the types {string.Join(", ", ComputeOps.Where(options.OpTypes.Contains))} in the main graph could be quantized statically");
            return Finish(rewriter, counters, modified);
        }

        // The ranges the pairs need, measured on the float model.
        var graph = model.Graph;
        var measured = Measured(placement);
        var ranges = ActivationCalibration.Measure(model, measured, calibration, options.Method, context.ModelFile, context.Cancellation, options.Percentile);
        var parameters = Parameters(graph, placement, ranges, context);
        var order = graph.Nodes.Select((node, index) => (node, index)).ToDictionary(p => p.node, p => p.index);

        foreach (var plan in ready)
        {
            plan.Quantizer.Rewrite(plan, rewriter);
            rewriter.Count("nodes quantized");
            rewriter.Count($"{plan.Node.OpType} nodes");
        }

        if (activationMatMuls.Count > 0)
        {
            rewriter.Count("nodes quantized", activationMatMuls.Count);
            rewriter.Count("MatMul nodes (activation x activation)", activationMatMuls.Count);
        }

        var biases = new BiasQuantizer(rewriter, context);
        foreach (var plan in ready.Where(p => p.Node.Inputs.Count > 2 && p.Node.Inputs[2] is not null))
        {
            biases.Quantize(plan, parameters[plan.Node.Inputs[0]!].Parameters);
        }

        var sharedInt8 = placement.Quantized.Count(value => InsertPair(value, parameters[value], placement, rewriter, order));
        if (sharedInt8 > 0)
        {
            context.Warn(ErrorCodes.StaticInt8SharedOutputs,
                $"{sharedInt8} quantized output(s) have several readers; with int8 activations ONNX Runtime on x64 cannot fuse the nodes that compute them " +
                "(it turns int8 into uint8 only where a QuantizeLinear has one reader), so they run in float there; uint8 activations fuse them", "--activation-type");
        }

        if (placement.Joined.Any(n => n.Is("MaxPool")))
        {
            rewriter.RequireOpset(12);
        }

        biases.RemoveReplaced();
        counters["values calibrated"] = measured.Length;
        counters["activations quantized"] = placement.Quantized.Count;
        counters["int8 operators"] = placement.Joined.Count;
        counters["activation functions absorbed"] = placement.Absorbed.Count;
        return Finish(rewriter, counters, true);
    }

    /// <summary>
    /// The names of the values whose ranges the pass measures on <paramref name="model"/>, which it changes
    /// as <see cref="Run"/> does before it calibrates (BatchNormalization folded, opset upgraded, thin convs
    /// given their int8 weights): only the values a QuantizeLinear reads with a range of their own, not those
    /// that share another's parameters or have a fixed range. The data-passes benchmark times the
    /// calibration of exactly these.
    /// </summary>
    internal IReadOnlyList<string> CalibratedValues(Model model, PassContext context) =>
        Plan(model, context).Placement is { } placement ? Measured(placement) : [];

    private static string[] Measured(QdqPlacement placement) =>
        placement.Quantized.Where(v => placement.Sources[v].Calibrated).Select(v => v.Name).ToArray();

    // Everything before calibration: the model prepared, the weights quantized (thin convs rewritten to
    // weight-only), and where the pairs go; no placement when no node can be quantized statically.
    private (Dictionary<string, long> Counters, QuantizationRewriter Rewriter, NodePlan[] Ready, List<Node> ActivationMatMuls,
        QdqPlacement? Placement, bool Modified) Plan(Model model, PassContext context)
    {
        var opTypes = options.OpTypes.ToHashSet(StringComparer.Ordinal);
        var excluded = options.ExcludeNodes.ToHashSet(StringComparer.Ordinal);
        WarnMissingNames(model, excluded, context);
        var counters = Prepare(model, opTypes, excluded, context);

        // Weights: the int8 operator quantizers, in their DequantizeLinear form (weight-only for thin convs).
        var rewriter = new QuantizationRewriter(model, new QuantizationSettings(options.WeightScheme, options.PerChannel, QuantForm.Dequantize), context.ForQuantizer(context.Get(SharedPassData.LayerStatistics)));
        var (plans, activationMatMuls) = PlanComputeNodes(model, rewriter, opTypes, excluded, context);
        var quantized = rewriter.QuantizeWeights(plans);
        var weightOnly = quantized.Where(p => p.Form == QuantForm.WeightOnly).ToArray();
        var ready = quantized.Except(weightOnly).ToArray();
        foreach (var plan in weightOnly)
        {
            plan.Quantizer.Rewrite(plan, rewriter);
            rewriter.Count("thin convs in float (int8 weights)");
        }

        var compute = ready.ToDictionary(p => p.Node, _ => new[] { 0 });
        foreach (var node in activationMatMuls)
        {
            compute[node] = [0, 1];
        }

        if (compute.Count == 0)
        {
            return (counters, rewriter, ready, activationMatMuls, null,
                weightOnly.Length > 0 || counters.GetValueOrDefault("batch norms folded") > 0 || counters.ContainsKey("opset upgraded to"));
        }

        // Where the pairs go.
        var maxPoolInt8 = model.Opsets.Default >= 12 || OpsetRaise.CanRaise(model, 12);
        var placement = QdqPlacement.Plan(model.Graph, compute,
            n => opTypes.Contains(n.OpType) && !excluded.Contains(n.Name) && (!n.Is("MaxPool") || maxPoolInt8));
        return (counters, rewriter, ready, activationMatMuls, placement, true);
    }

    // Before planning: a warning for subgraphs, the opset upgrade a model below 10 may need, BatchNormalization folding.
    private Dictionary<string, long> Prepare(Model model, HashSet<string> opTypes, HashSet<string> excluded, PassContext context)
    {
        var counters = new Dictionary<string, long>();
        var nested = model.Graph.EnumerateGraphs().Skip(1).SelectMany(g => g.Nodes)
            .Count(n => n.Domain is "" or "ai.onnx" && ComputeOps.Contains(n.OpType) && opTypes.Contains(n.OpType));
        if (nested > 0)
        {
            counters["nodes in subgraphs left float"] = nested;
            context.Warn(ErrorCodes.StaticSubgraphsFloat,
                $"{nested} Conv/MatMul/Gemm node(s) inside If/Loop/Scan bodies stay float: calibration measures the main graph only (int8 quantizes them without calibration)");
        }

        // QuantizeLinear needs opset 10; ONNX Runtime's fusions write default-domain QLinear* nodes
        // that do not exist below it, so com.microsoft Q/DQ in an older graph would not load once
        // optimized. A model that cannot just take the number is upgraded (nodes rewritten) to 13.
        if (model.Opsets.Default is > 0 and < 10 && !OpsetRaise.CanRaise(model, 10))
        {
            counters["opset upgraded from"] = model.Opsets.Default;
            new UpgradeOpsetPass(UpgradedOpset).Run(model, context);
            counters["opset upgraded to"] = UpgradedOpset;
        }

        if (options.FoldBatchNormalization && opTypes.Contains("Conv"))
        {
            // A folded weight is the measured one with its output rows scaled: the layer's input, and so
            // its H, are unchanged, and layer-wise reconstruction follows the weight to its new name.
            var layerwise = context.Get(SharedPassData.LayerStatistics);
            counters["batch norms folded"] = BatchNormFolding.Run(model.Graph, conv => !excluded.Contains(conv.Name),
                (original, folded) => layerwise?.Alias(folded, original));
        }

        return counters;
    }

    // The weight plans of the main graph's compute nodes, and the MatMuls of two float activations.
    private (List<NodePlan> Plans, List<Node> ActivationMatMuls) PlanComputeNodes(Model model, QuantizationRewriter rewriter,
        HashSet<string> opTypes, HashSet<string> excluded, PassContext context)
    {
        var plans = new List<NodePlan>();
        var activationMatMuls = new List<Node>();
        IReadOnlyDictionary<Value, DataType>? types = null;
        foreach (var node in model.Graph.Nodes)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            if (node.Domain is not ("" or "ai.onnx") || !ComputeOps.Contains(node.OpType) || !opTypes.Contains(node.OpType) || excluded.Contains(node.Name)
                || node.Inputs[0] is not { IsWeight: false })
            {
                continue;
            }

            var quantizer = OperatorQuantizers.Find(node.OpType)!;
            if (options.ThinConvsFloat && node.Is("Conv") && rewriter.Weight(node, 1) is { } weight && IsThin(weight.ConstantTensor!))
            {
                // Float compute on an int8 weight that ONNX Runtime rebuilds once at load (int8-dynamic's weight-only form).
                plans.Add(new NodePlan(node, quantizer, QuantForm.WeightOnly, [(1, new WeightKey(weight, rewriter.ChannelAxis(QuantForm.WeightOnly, 0), false))]));
            }
            else if (quantizer.Plan(node, rewriter) is { Weights.Count: > 0 } plan)
            {
                if (KeptFloatReason(node) is { } reason)
                {
                    context.Warn(ErrorCodes.StaticNodeKeptFloat, $"{node} stays float: {reason}");
                    continue;
                }

                plans.Add(plan);
            }
            else if (node.Is("MatMul") && !options.MatMulConstBOnly && node.Inputs is [{ IsWeight: false } a, { IsWeight: false } b])
            {
                types ??= Types.ElementTypeInference.Infer(model);
                if (types.GetValueOrDefault(a) == DataType.Float && types.GetValueOrDefault(b) == DataType.Float)
                {
                    activationMatMuls.Add(node);
                }
            }
        }

        return (plans, activationMatMuls);
    }

    // Removes replaced float weights, raises the opset the new nodes need, and merges the counters.
    private static PassResult Finish(QuantizationRewriter rewriter, Dictionary<string, long> counters, bool modified)
    {
        rewriter.Finish();
        foreach (var (key, count) in counters)
        {
            rewriter.Count(key, count);
        }

        return new PassResult(modified, rewriter.Counters);
    }

    // The calibration data, checked; MSH2500 when absent.
    private static string Validate(Int8StaticOptions options, PassContext context)
    {
        var unknown = options.OpTypes.Where(op => QdqPlacement.RoleOf(op) is null).ToArray();
        if (unknown.Length > 0)
        {
            throw context.Error(ErrorCodes.QuantInvalidOption,
                $"int8 static quantization cannot handle operator type(s) {string.Join(", ", unknown)}; supported: {string.Join(", ", QdqPlacement.KnownOpTypes)}",
                "--op-types");
        }

        if (options.Method == CalibrationMethod.Percentile && options.Percentile is not (> 0 and <= 100))
        {
            throw context.Error(ErrorCodes.QuantInvalidOption, $"percentile {options.Percentile} is not in (0, 100]", "--percentile");
        }

        if (string.IsNullOrWhiteSpace(options.CalibrationData))
        {
            throw context.Error(ErrorCodes.StaticCalibrationMissing,
                "int8 static quantization needs calibration data (--calibration, or Calibration/Holdout metadata): a few hundred representative inputs as test_data_set_N folders, .npz or .npy",
                "Calibration");
        }

        if (!File.Exists(options.CalibrationData) && !Directory.Exists(options.CalibrationData))
        {
            throw context.Error(ErrorCodes.StaticCalibrationMissing, $"calibration data '{options.CalibrationData}' does not exist", "Calibration");
        }

        return options.CalibrationData;
    }

    // A Conv whose kernel reads fewer than 4 input channels per group: depthwise, or an image stem.
    private static bool IsThin(Tensor weight) => weight.Dims.Count >= 3 && weight.Dims[1] < 4;

    // Why a compute node cannot take ONNX Runtime's fused form, or null when it can.
    private static string? KeptFloatReason(Node node)
    {
        var bias = node.Inputs.Count > 2 ? node.Inputs[2] : null;
        if (bias is null)
        {
            return null;
        }

        if (bias.ConstantTensor is not { DataType: DataType.Float } tensor || bias.IsGraphInput)
        {
            return $"its bias '{bias.Name}' is not a float32 constant";
        }

        if (node.Is("Gemm"))
        {
            if (node.GetFloat("alpha", 1f) != 1f || node.GetFloat("beta", 1f) != 1f)
            {
                return "a Gemm with a bias needs alpha = beta = 1 for ONNX Runtime's QGemm";
            }

            var weight = node.Inputs[1]?.ConstantTensor;
            var columns = weight is { Dims.Count: 2 } ? weight.Dims[node.GetInt("transB", 0) != 0 ? 0 : 1] : -1;
            if (tensor.ElementCount != 1 && (tensor.ElementCount != columns || tensor.Dims[^1] != columns))
            {
                return $"its bias has shape [{string.Join(",", tensor.Dims)}], not one value per output column";
            }
        }
        else if (node.Is("Conv") && node.Inputs[1]?.ConstantTensor is { } weight && tensor.ElementCount != weight.Dims[0])
        {
            return $"its bias has {tensor.ElementCount} values for {weight.Dims[0]} output channels";
        }

        return null;
    }

    // Scale and zero point initializers for each quantized value; values sharing parameters share them.
    private Dictionary<Value, ActivationQuantization> Parameters(Graph graph, QdqPlacement placement,
        IReadOnlyDictionary<string, ActivationRange> ranges, PassContext context)
    {
        var scheme = options.ActivationScheme;
        var result = new Dictionary<Value, ActivationQuantization>();
        foreach (var value in placement.Quantized)
        {
            var source = placement.Sources[value];
            if (source.SameAs is { } same)
            {
                result[value] = result[same];
                continue;
            }

            var range = source.Fixed ?? ranges[value.Name];
            if (!float.IsFinite(range.Min) || !float.IsFinite(range.Max))
            {
                throw context.Error(ErrorCodes.StaticRangeNotFinite,
                    $"calibration gave '{value.Name}' the range [{range.Min}, {range.Max}]; the model computes NaN or infinity on the calibration data", "Calibration");
            }

            var p = QuantParameters.FromRange(range.Min, range.Max, scheme);
            var scale = graph.AddInitializer(Tensor.FromArray<float>(graph.UniqueName(value.Name + "_scale"), [], [p.Scale]));
            var zeroPoint = graph.AddInitializer(scheme.Type == WeightType.Int8
                ? Tensor.FromArray<sbyte>(graph.UniqueName(value.Name + "_zero_point"), [], [(sbyte)p.ZeroPoint])
                : Tensor.FromArray<byte>(graph.UniqueName(value.Name + "_zero_point"), [], [(byte)p.ZeroPoint]));
            result[value] = new ActivationQuantization(p, scale, zeroPoint);
        }

        return result;
    }

    // QuantizeLinear -> DequantizeLinear right after the value's producer. Who reads a DequantizeLinear
    // depends on the producer: after an int8 unit every reader (ONNX Runtime fuses the unit only when
    // a single QuantizeLinear reads it), after a float producer only the int8 readers. With int8
    // activations each int8 reader of a float producer gets its own pair: ONNX Runtime on x64 turns
    // an int8 pair into uint8 (what its kernels take) only when the QuantizeLinear has one reader.
    // Returns whether an int8 unit's output went to several readers with int8 activations.
    private bool InsertPair(Value value, ActivationQuantization parameters, QdqPlacement placement, QuantizationRewriter rewriter,
        IReadOnlyDictionary<Node, int> order)
    {
        var graph = value.Graph;
        var int8Unit = placement.LeavesInt8Unit(value);
        var readers = value.Uses
            .Where(u => int8Unit || placement.SlotsOf(u.Node).Contains(u.InputIndex))
            .GroupBy(u => u.Node)
            .ToArray();
        var output = int8Unit && value.IsGraphOutput;
        var int8 = options.ActivationType == WeightType.Int8;
        var dedicated = int8 && !int8Unit && readers.Length > 1;
        // Before the first reader (its node in this graph when it sits in a subgraph), else at the end.
        var before = readers.Select(r => AncestorIn(graph, r.Key)).MinBy(n => order[n]);
        Value? shared = null;
        var pairs = 0;
        Value Pair()
        {
            if (shared is not null)
            {
                return shared;
            }

            // Dedicated pairs after the first hold their own copies of the scale and zero point, or
            // ONNX Runtime's common-subexpression elimination merges the QuantizeLinear nodes again.
            var (scale, zeroPoint) = pairs++ > 0 ? Copies(graph, parameters) : (parameters.Scale, parameters.ZeroPoint);
            var quantize = rewriter.AddQdqNode(graph, "QuantizeLinear", [value, scale, zeroPoint],
                value.Name + "_quantized", value.Name + "_QuantizeLinear", before);
            var dequantized = rewriter.AddQdqNode(graph, "DequantizeLinear", [quantize.Outputs[0], scale, zeroPoint],
                value.Name + "_dequantized", value.Name + "_DequantizeLinear", before).Outputs[0]!;
            if (!dedicated)
            {
                shared = dequantized;
            }

            return dequantized;
        }

        foreach (var reader in readers)
        {
            var dequantized = Pair();
            foreach (var use in reader)
            {
                reader.Key.SetInput(use.InputIndex, dequantized);
            }
        }

        if (output)
        {
            // The graph output keeps its name and type on the DequantizeLinear.
            var dequantized = Pair();
            var name = value.Name;
            var type = value.Type;
            var slot = graph.Outputs.IndexOf(value);
            while (slot >= 0)
            {
                graph.Outputs[slot] = dequantized;
                slot = graph.Outputs.IndexOf(value);
            }

            graph.RenameValue(value, graph.UniqueName(name + "_float"));
            graph.RenameValue(dequantized, name);
            dequantized.Type = type;
        }

        return int8 && int8Unit && readers.Length + (output ? 1 : 0) > 1;
    }

    private static (Value Scale, Value ZeroPoint) Copies(Graph graph, ActivationQuantization parameters) =>
        (graph.AddInitializer(parameters.Scale.Initializer!.WithName(graph.UniqueName(parameters.Scale.Name))),
         graph.AddInitializer(parameters.ZeroPoint.Initializer!.WithName(graph.UniqueName(parameters.ZeroPoint.Name))));

    private static Node AncestorIn(Graph graph, Node node)
    {
        while (node.Graph != graph)
        {
            node = node.Graph.OwnerNode ?? throw new InvalidOperationException($"{node} is not inside graph '{graph.Name}'");
        }

        return node;
    }

    private static void WarnMissingNames(Model model, IEnumerable<string> names, PassContext context)
    {
        var present = model.Graph.EnumerateNodes().Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names.Where(n => !present.Contains(n)).Distinct())
        {
            context.Warn(ErrorCodes.QuantNodeNotFound, $"no node is named '{name}'", "--exclude-nodes");
        }
    }
}

/// <summary>One activation's parameters and the initializers that hold them.</summary>
internal sealed record ActivationQuantization(QuantParameters Parameters, Value Scale, Value ZeroPoint);
