using ModelShrink.Core.Quantization.Operators;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Int8Dynamic;

/// <summary>
/// "int8-dynamic": weights of MatMul, Gemm, Conv and recurrent nodes to 8 bits, in every graph
/// (subgraphs of If/Loop/Scan included), whether the weights are initializers, Constant nodes or
/// outer-scope values; weights that are also graph inputs stay float (MSH2200). Each operator's
/// quantizer (<see cref="OperatorQuantizers"/>) plans its node, the planned weights are quantized
/// once each and in parallel, then the nodes are rewritten and float weights nobody reads are removed.
/// </summary>
public sealed class Int8DynamicPass(Int8DynamicOptions options) : IPass
{
    /// <inheritdoc />
    public string Name => "int8-dynamic";

    /// <inheritdoc />
    public IReadOnlyList<PassData> Uses => [SharedPassData.LayerStatistics];

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        Validate(options, context);
        var rewriter = new QuantizationRewriter(model,
            new QuantizationSettings(options.Scheme, options.PerChannel, options.ForcedForm, options.MatMulConstBOnly), context.ForQuantizer(context.Get(SharedPassData.LayerStatistics)));
        var opTypes = options.OpTypes.ToHashSet(StringComparer.Ordinal);
        var excluded = options.ExcludeNodes.ToHashSet(StringComparer.Ordinal);
        var included = options.NodesToQuantize.ToHashSet(StringComparer.Ordinal);
        WarnMissingNames(model, excluded.Concat(included), context);

        var graphs = options.Subgraphs ? model.Graph.EnumerateGraphs() : [model.Graph];
        var plans = new List<NodePlan>();
        foreach (var graph in graphs.ToArray())
        {
            foreach (var node in graph.Nodes)
            {
                context.Cancellation.ThrowIfCancellationRequested();
                if (node.Domain is not ("" or "ai.onnx") || !opTypes.Contains(node.OpType) || excluded.Contains(node.Name)
                    || (included.Count > 0 && !included.Contains(node.Name)))
                {
                    continue;
                }

                if (OperatorQuantizers.Find(node.OpType)?.Plan(node, rewriter) is { } plan)
                {
                    plans.Add(plan);
                }
            }
        }

        var ready = rewriter.QuantizeWeights(plans);
        foreach (var plan in ready)
        {
            plan.Quantizer.Rewrite(plan, rewriter);
            rewriter.Count("nodes quantized");
            rewriter.Count(plan.Form switch
            {
                QuantForm.Integer => "integer nodes",
                QuantForm.WeightOnly => "weight-only nodes",
                _ => "dequantize nodes",
            });
        }

        rewriter.Finish();
        if (ready.Count == 0)
        {
            context.Warn(ErrorCodes.QuantNothingQuantized,
                $"no node of the types {string.Join(", ", options.OpTypes)} had a float32 weight that could be quantized; the model is unchanged");
        }

        return new PassResult(ready.Count > 0, rewriter.Counters);
    }

    private static void Validate(Int8DynamicOptions options, PassContext context)
    {
        var unknown = options.OpTypes.Where(op => OperatorQuantizers.Find(op) is null).ToArray();
        if (unknown.Length > 0)
        {
            throw context.Error(ErrorCodes.QuantInvalidOption,
                $"cannot quantize operator type(s) {string.Join(", ", unknown)}; supported: {string.Join(", ", OperatorQuantizers.OpTypes.Order(StringComparer.OrdinalIgnoreCase))}",
                "--op-types");
        }
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
