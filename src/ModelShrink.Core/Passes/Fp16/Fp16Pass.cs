using ModelShrink.Core.Passes.Types;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Passes.Fp16;

/// <summary>
/// <c>fp16</c>: float32 weights and compute become float16. Weights (initializers, Constant nodes,
/// in subgraphs too) are converted once, with clamping into float16's range; every node of the
/// ONNX domain then runs in float16 except blocked ones, which keep float32 with Casts around them;
/// element-type attributes follow (Cast 'to', ConstantOfShape 'value', RandomNormal 'dtype', ...);
/// the model's float32 inputs and outputs stay float32 behind Casts unless
/// <see cref="Fp16Options.KeepIoTypes"/> is off. Redundant Casts are removed at the end.
/// </summary>
public sealed class Fp16Pass(Fp16Options options) : IPass
{
    /// <summary>Counter: float32 weight tensors stored as float16.</summary>
    public const string WeightsConverted = "weights converted";

    /// <summary>Counter: weight values outside float16's range that were clamped.</summary>
    public const string ValuesClamped = "values clamped";

    /// <summary>Counter: nodes that now compute in float16.</summary>
    public const string NodesHalf = "nodes in float16";

    /// <summary>Counter: nodes on float data kept in float32 (blocked op or name, or non-ONNX domain).</summary>
    public const string NodesKept = "nodes kept float32";

    /// <summary>Counter: nodes kept float32 because float16 cannot hold a weight or activation of theirs (<see cref="Fp16RangeCheck"/>).</summary>
    public const string NodesKeptForRange = "nodes kept float32 for range";

    /// <summary>Counter: Cast nodes inserted (boundary, around blocked nodes, float32-only slots).</summary>
    public const string CastsInserted = "casts inserted";

    /// <summary>Counter: Casts removed as redundant (identity, float32/float16 round trips, duplicates), the model's own included.</summary>
    public const string CastsRemoved = "casts removed";

    /// <summary>Counter: attributes that named float32 as an element type or held float32 data.</summary>
    public const string AttributesRetyped = "attributes retyped";

    /// <summary>Counter: initializers listed as graph inputs kept float32 (the interface stays) and cast at run time.</summary>
    public const string OverridableWeightsKept = "overridable weights kept float32";

    /// <summary>The smallest positive float16 (a subnormal).</summary>
    public const float SmallestHalf = 5.96e-8f;

    /// <inheritdoc />
    public string Name => "fp16";

    /// <summary>The options this pass runs with.</summary>
    public Fp16Options Options => options;

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        Validate(context);
        if (model.Opsets.Default is > 0 and < 6)
        {
            // Before opset 6, Cast names its target type with a string; nobody exports that any more.
            throw context.Error(ErrorCodes.UnsupportedModel,
                $"the fp16 pass needs ONNX opset 6 or newer (Cast with an integer 'to'); the model imports opset {model.Opsets.Default}");
        }

        var counters = new Dictionary<string, long>
        {
            [WeightsConverted] = 0, [ValuesClamped] = 0, [NodesHalf] = 0, [NodesKept] = 0,
            [CastsInserted] = 0, [CastsRemoved] = 0, [AttributesRetyped] = 0, [OverridableWeightsKept] = 0,
        };

        var types = ElementTypeInference.Infer(model);
        var weightErrors = Fp16RangeCheck.WeightErrors(model);
        var kept = options.KeepOutOfRange ? KeepOutOfRange(model, weightErrors, context) : [];
        counters[NodesKeptForRange] = kept.Count;
        var plan = new PrecisionPlan(model, types, kept.Count == 0 ? options : options with { NodeBlockList = [.. options.NodeBlockList, .. kept.Select(k => k.Node)] });
        WarnAboutMissingNodes(model, context);
        if (!types.Values.Contains(DataType.Float))
        {
            return PassResult.FromCounters(counters);
        }

        var graphs = model.Graph.EnumerateGraphs().ToList();
        var sourceValues = graphs.SelectMany(g => g.Values).ToList();
        var sourceNodes = graphs.SelectMany(g => g.Nodes).ToList();
        var converter = new HalfConverter(options.MinPositiveValue, options.MaxFiniteValue);
        var casts = new CastFactory();

        var clampedWeights = new List<(Value Weight, long Count)>();
        counters[WeightsConverted] = ConvertWeights(graphs, plan, converter, clampedWeights, context.Cancellation);
        counters[OverridableWeightsKept] = model.Graph.Initializers.Count(v => v.IsGraphInput && plan.IsFloat32(v) && !plan.IsConvertibleWeight(v));
        var outputCasts = CastModelOutputs(model.Graph, plan, casts);

        var unknown = new List<Value>();
        foreach (var node in sourceNodes)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            if (node.IsConstant)
            {
                continue;
            }

            var half = plan.RunsInHalf(node);
            if (node.Inputs.Any(plan.IsFloat32) || node.Outputs.Any(plan.IsFloat32))
            {
                counters[half ? NodesHalf : NodesKept]++;
            }

            RewireInputs(node, plan, casts, unknown);
            if (half)
            {
                var output = node.Outputs.Count > 0 ? node.Outputs[0] : null;
                var outputIsFloat = plan.IsFloat32(output) && Fp16OpRules.OutputFollowsNode(node, 0);
                counters[AttributesRetyped] += Fp16OpRules.RetypeAttributes(node, t => converter.Convert(t).Tensor, outputIsFloat);
            }
        }

        CastSubgraphOutputs(graphs, plan, casts);
        var retyped = RetypeDeclaredValues(sourceValues, plan);
        WarnAboutUnknownTypes(unknown, context);

        var cleanup = CastCleanup.Run(model, v => CurrentType(v, plan, casts));
        foreach (var graph in model.Graph.EnumerateGraphs())
        {
            graph.SortTopologically();
        }

        counters[CastsInserted] = casts.Inserted + outputCasts;
        counters[CastsRemoved] = cleanup.Total;
        counters[ValuesClamped] = converter.Clamped;
        WarnAboutClamping(clampedWeights.Where(w => weightErrors.GetValueOrDefault(w.Weight)?.Relative > options.MaxRelativeError).ToList(), context);

        // Counting nodes in float16 changes nothing by itself (a second run finds them all converted).
        var modified = retyped + counters[WeightsConverted] + counters[CastsInserted] + counters[CastsRemoved] + counters[AttributesRetyped] > 0;
        return new PassResult(modified, counters);
    }

    // Nodes whose values float16 cannot hold stay float32. Without data only weights can be checked:
    // a warning names the nodes kept, so the user knows why, and that activations went unchecked.
    private List<KeptNode> KeepOutOfRange(Model model, Dictionary<Value, HalfError> weights, PassContext context)
    {
        var activations = options.ActivationErrors
            ?? (options.RangeData is { } data ? Fp16RangeCheck.ActivationErrors(model, data, context.ModelFile, context.Cancellation) : null);
        var kept = Fp16RangeCheck.NodesToKeep(model, weights, activations, options.MaxRelativeError).ToList();
        if (activations is null && kept.Count > 0)
        {
            context.Warn(ErrorCodes.Fp16NodesKeptForRange,
                $"{kept.Count} node(s) kept in float32 because float16 cannot hold their weights: {string.Join("; ", kept.Take(5).Select(k => k.Describe()))}"
                + $"{(kept.Count > 5 ? $" and {kept.Count - 5} more" : "")}; activations were not checked: give holdout data to measure them",
                "Holdout");
        }

        return kept;
    }

    private void Validate(PassContext context)
    {
        if (!(options.MaxFiniteValue > SmallestHalf && options.MaxFiniteValue <= (float)Half.MaxValue))
        {
            throw context.Error(ErrorCodes.InvalidArgument,
                $"the fp16 maximum finite value {options.MaxFiniteValue:G6} must lie in float16's range (up to 65504)",
                nameof(Fp16Options.MaxFiniteValue));
        }

        if (!(options.MinPositiveValue >= SmallestHalf && options.MinPositiveValue < options.MaxFiniteValue))
        {
            throw context.Error(ErrorCodes.InvalidArgument,
                $"the fp16 minimum positive value {options.MinPositiveValue:G6} must be at least float16's smallest ({SmallestHalf:G3}) and below the maximum finite value",
                nameof(Fp16Options.MinPositiveValue));
        }
    }

    // Weights some float16 reader needs are converted in parallel, then written back one by one.
    private static long ConvertWeights(List<Graph> graphs, PrecisionPlan plan, HalfConverter converter, List<(Value, long)> clamped,
        CancellationToken cancellation)
    {
        var weights = graphs.SelectMany(g => g.Values)
            .Where(v => plan.IsFloat32(v) && plan.IsConvertibleWeight(v) && plan.HomeIsHalf(v) && v.ConstantTensor is not null)
            .ToList();
        var converted = converter.ConvertAll(weights.Select(v => v.ConstantTensor!).ToList(), cancellation);
        for (var i = 0; i < weights.Count; i++)
        {
            var weight = weights[i];
            if (converted[i].Clamped > 0)
            {
                clamped.Add((weight, converted[i].Clamped));
            }

            if (weight.Initializer is not null)
            {
                weight.Graph.ReplaceInitializer(weight, converted[i].Tensor);
            }
            else
            {
                var constant = weight.Producer!;
                constant.Attributes.Clear();
                constant.Attributes.Add(Attribute.FromTensor("value", converted[i].Tensor));
            }
        }

        return weights.Count;
    }

    // The model's float outputs keep their names: the producing value is renamed and a Cast to the
    // interface type takes the name. Registered with the factory so float32 readers share it.
    private static int CastModelOutputs(Graph main, PrecisionPlan plan, CastFactory casts)
    {
        var inserted = 0;
        var half = plan.BoundaryIsHalf(main);
        foreach (var output in main.Outputs.Distinct().ToList())
        {
            if (!plan.IsFloat32(output) || plan.HomeIsHalf(output) == half)
            {
                continue;
            }

            var name = output.Name;
            var to = half ? DataType.Float16 : DataType.Float;
            var interfaceType = CastFactory.WithElementType(output.Type, to);
            main.RenameValue(output, main.UniqueName(name + (half ? "_fp32" : "_fp16")));
            var cast = main.AddNode("Cast", [output], [name], [Attribute.FromInt("to", (long)to)]);
            var renamed = cast.Outputs[0]!;
            renamed.Type = interfaceType;
            casts.Register(output, to, renamed);
            for (var i = 0; i < main.Outputs.Count; i++)
            {
                if (main.Outputs[i] == output)
                {
                    main.Outputs[i] = renamed;
                }
            }

            inserted++;
        }

        return inserted;
    }

    private static void RewireInputs(Node node, PrecisionPlan plan, CastFactory casts, List<Value> unknown)
    {
        for (var slot = 0; slot < node.Inputs.Count; slot++)
        {
            var input = node.Inputs[slot];
            if (input is null)
            {
                continue;
            }

            var need = plan.Need(node, slot);
            if (!plan.IsFloat32(input))
            {
                if (need == SlotNeed.Half && plan.SourceType(input) is null)
                {
                    unknown.Add(input);
                }

                continue;
            }

            if (need != SlotNeed.Any && plan.HomeIsHalf(input) != (need == SlotNeed.Half))
            {
                node.SetInput(slot, casts.Get(input, need == SlotNeed.Half ? DataType.Float16 : DataType.Float, node));
            }
        }
    }

    // A subgraph's float outputs must have its owner's precision (If branches, Loop and Scan bodies).
    private static void CastSubgraphOutputs(List<Graph> graphs, PrecisionPlan plan, CastFactory casts)
    {
        foreach (var graph in graphs.Where(g => g.Parent is not null))
        {
            var half = plan.BoundaryIsHalf(graph);
            for (var i = 0; i < graph.Outputs.Count; i++)
            {
                var output = graph.Outputs[i];
                if (plan.IsFloat32(output) && plan.HomeIsHalf(output) != half)
                {
                    var to = half ? DataType.Float16 : DataType.Float;
                    graph.Outputs[i] = output.Graph == graph ? casts.Get(output, to, null) : casts.CreateIn(graph, output, to);
                }
            }
        }
    }

    // Declared types (inputs, outputs, value_info) of values that now live in float16.
    private static int RetypeDeclaredValues(List<Value> values, PrecisionPlan plan)
    {
        var count = 0;
        foreach (var value in values)
        {
            if (plan.IsFloat32(value) && plan.HomeIsHalf(value) && CastFactory.AsFloat16(value.Type) is { } retyped)
            {
                value.Type = retyped;
                count++;
            }
        }

        return count;
    }

    private static DataType? CurrentType(Value value, PrecisionPlan plan, CastFactory casts)
    {
        if (casts.Outputs.TryGetValue(value, out var cast))
        {
            return cast;
        }

        if (plan.IsFloat32(value))
        {
            return plan.HomeIsHalf(value) ? DataType.Float16 : DataType.Float;
        }

        return plan.SourceType(value);
    }

    // Clamping keeps a model finite, but a large constant (a scale such as 2^20) changes what its
    // readers compute: name the weights and their readers so the user can block them.
    // Only weights whose clamping changes them beyond MaxRelativeError are named (tiny values raised to
    // float16's smallest subnormal are counted but change nothing that matters).
    private void WarnAboutClamping(List<(Value Weight, long Count)> weights, PassContext context)
    {
        var total = weights.Sum(w => w.Count);
        if (total == 0)
        {
            return;
        }

        var examples = weights.OrderByDescending(w => w.Count).Take(3).Select(w =>
            $"'{w.Weight.Name}' ({w.Count}, read by {string.Join(", ", w.Weight.Uses.Select(u => $"{u.Node.OpType} '{u.Node.Name}'").Distinct().Take(2))})");
        context.Warn(ErrorCodes.Fp16ValuesClamped,
            $"{total} weight value(s) lie outside float16's range and were clamped to [{options.MinPositiveValue:G3}, {options.MaxFiniteValue:G6}] in magnitude: "
            + $"{string.Join("; ", examples)}; keep those readers in float32 with the fp16 node block list if the clamped values matter",
            "Fp16BlockNodes");
    }

    private void WarnAboutMissingNodes(Model model, PassContext context)
    {
        if (options.NodeBlockList.Count == 0)
        {
            return;
        }

        var names = model.Graph.EnumerateNodes().Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var missing in options.NodeBlockList.Where(n => !names.Contains(n)).Distinct())
        {
            context.Warn(ErrorCodes.Fp16BlockedNodeNotFound,
                $"no node is named '{missing}'; the fp16 node block list names nodes by their ONNX name", "Fp16BlockNodes");
        }
    }

    private static void WarnAboutUnknownTypes(List<Value> unknown, PassContext context)
    {
        var distinct = unknown.Distinct().ToList();
        if (distinct.Count > 0)
        {
            context.Warn(ErrorCodes.Fp16UnknownElementType,
                $"the element type of {distinct.Count} value(s) read by float16 nodes is unknown (e.g. '{string.Join("', '", distinct.Take(3).Select(v => v.Name))}'); "
                + "if they are float32 tensors the converted model will not load: add their readers to the fp16 block lists");
        }
    }
}
