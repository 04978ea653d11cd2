using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Fp16;

/// <summary>
/// Decides, before anything changes, which nodes run in float16 and in which precision every
/// float32 value of the model will live ("home"): float16 for outputs of float16 nodes and for
/// weights some float16 node reads, float32 for outputs of blocked nodes, for weights only float32
/// slots read, and for the model's inputs when their types are kept. A reader whose need differs
/// from a value's home gets a Cast.
/// </summary>
internal sealed class PrecisionPlan
{
    private readonly IReadOnlyDictionary<Value, DataType> types;
    private readonly Fp16Options options;
    private readonly long opset;
    private readonly HashSet<string> blockedOps;
    private readonly HashSet<string> blockedNodes;
    private readonly Dictionary<Value, bool> weightHomes = [];
    private readonly Dictionary<Node, bool> runsInHalf = [];

    public PrecisionPlan(Model model, IReadOnlyDictionary<Value, DataType> types, Fp16Options options)
    {
        this.types = types;
        this.options = options;
        opset = model.Opsets.Default;
        blockedOps = options.OpBlockList.ToHashSet(StringComparer.Ordinal);
        blockedNodes = options.NodeBlockList.ToHashSet(StringComparer.Ordinal);
        // Every decision is taken on the source graph, before the pass changes anything.
        foreach (var node in model.Graph.EnumerateNodes())
        {
            RunsInHalf(node);
        }

        foreach (var graph in model.Graph.EnumerateGraphs())
        {
            foreach (var value in graph.Values)
            {
                if (IsFloat32(value) && IsConvertibleWeight(value))
                {
                    weightHomes[value] = WeightWantsHalf(value);
                }
            }
        }
    }

    /// <summary>Whether the value was float32 in the source model.</summary>
    public bool IsFloat32(Value? value) => value is not null && types.TryGetValue(value, out var type) && type == DataType.Float;

    /// <summary>The element type the source model gave a value, if known.</summary>
    public DataType? SourceType(Value value) => types.TryGetValue(value, out var type) ? type : null;

    /// <summary>
    /// Whether a node runs in float16: every ONNX-domain node but Constant (a weight, see
    /// <see cref="IsConvertibleWeight"/>), those blocked by op type or name, those whose schema has
    /// no float16, and Casts to float32 read only in float32. Nodes of other
    /// domains (ONNX-ML, contrib ops, model-local functions) stay float32: their kernels' types are unknown.
    /// </summary>
    public bool RunsInHalf(Node node)
    {
        if (!runsInHalf.TryGetValue(node, out var half))
        {
            half = Fp16OpRules.IsOnnxDomain(node) && !node.IsConstant && !blockedOps.Contains(node.OpType)
                && !blockedNodes.Contains(node.Name) && !Fp16OpRules.SchemaForbidsFloat16(node, opset) && !IsCastForFloat32Readers(node);
            runsInHalf[node] = half;
        }

        return half;
    }

    /// <summary>
    /// A weight whose data the pass converts itself: an initializer (one listed as a graph input
    /// only when the model's input types may change) or a Constant node's output.
    /// </summary>
    public bool IsConvertibleWeight(Value value) =>
        value.Producer is { IsConstant: true } || (value.Initializer is not null && (!value.IsGraphInput || !options.KeepIoTypes || value.Graph.Parent is not null));

    /// <summary>Whether the value lives in float16 after conversion (meaningful for float32 values only).</summary>
    public bool HomeIsHalf(Value value)
    {
        if (weightHomes.TryGetValue(value, out var half))
        {
            return half;
        }

        if (value.Producer is { } producer)
        {
            return RunsInHalf(producer) && Fp16OpRules.OutputFollowsNode(producer, value.ProducerOutputIndex);
        }

        // Graph inputs (including initializers listed as inputs when types are kept).
        return BoundaryIsHalf(value.Graph);
    }

    /// <summary>
    /// The precision of a graph's float boundary (its inputs and outputs): the model's own inputs and
    /// outputs per <see cref="Fp16Options.KeepIoTypes"/>; a subgraph's per the node that owns it.
    /// </summary>
    public bool BoundaryIsHalf(Graph graph) => graph.OwnerNode is { } owner ? RunsInHalf(owner) : !options.KeepIoTypes;

    /// <summary>What a reader's slot needs from a float32 value.</summary>
    public SlotNeed Need(Node reader, int slot) => Fp16OpRules.InputNeed(reader, slot, RunsInHalf(reader));

    // The model's own Cast to float32 stays one when only float32 slots (or a float32 model output)
    // read it: retyping it to float16 would only add a Cast back. This also makes a second run a no-op.
    private bool IsCastForFloat32Readers(Node node)
    {
        if (!node.Is("Cast") || node.GetInt("to", 0) != (long)DataType.Float || node.Outputs.Count != 1 || node.Outputs[0] is not { } output)
        {
            return false;
        }

        var needs = output.Uses.Select(u => Need(u.Node, u.InputIndex)).ToList();
        if (output.IsGraphOutput)
        {
            needs.Add(BoundaryIsHalf(output.Graph) ? SlotNeed.Half : SlotNeed.Float);
        }

        return needs.Contains(SlotNeed.Float) && !needs.Contains(SlotNeed.Half);
    }

    // Float16 unless some reader needs float32 and none needs float16 (kept float32 then, exact for
    // those readers). A weight read by both is stored once, in float16, and the float32 readers get a Cast.
    private bool WeightWantsHalf(Value weight)
    {
        var needs = weight.Uses.Select(u => Need(u.Node, u.InputIndex)).ToList();
        if (weight.IsGraphOutput)
        {
            needs.Add(BoundaryIsHalf(weight.Graph) ? SlotNeed.Half : SlotNeed.Float);
        }

        return needs.Contains(SlotNeed.Half) || !needs.Contains(SlotNeed.Float);
    }
}
