using ModelShrink.Core.Calibration;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Int8Static;

/// <summary>How an operator takes part in an int8 region, and so how ONNX Runtime's QDQ fusions treat it.</summary>
internal enum Int8Role
{
    /// <summary>Conv, MatMul, Gemm: QLinearConv, QLinearMatMul / MatMulIntegerToFloat, QGemm.</summary>
    Compute,

    /// <summary>Data movement (MaxPool, Reshape, Transpose, Flatten, Squeeze, Unsqueeze, Resize): runs on the int8 data itself when its output shares its input's scale and zero point.</summary>
    Shape,

    /// <summary>One quantized input, its own output range: AveragePool, GlobalAveragePool (QLinear* contrib ops), a Relu or Clip not absorbed by its producer.</summary>
    Unary,

    /// <summary>QLinearSoftmax; the output range is fixed to [0, 1] as in ONNX Runtime's tool.</summary>
    Softmax,

    /// <summary>Add, Mul: QLinearAdd, QLinearMul; both inputs quantized, neither a constant.</summary>
    Binary,

    /// <summary>Concat: QLinearConcat; every input quantized, none a constant.</summary>
    Variadic,
}

/// <summary>Where a quantized value's scale and zero point come from.</summary>
/// <param name="SameAs">The value whose parameters it shares (a Shape operator's input), or null.</param>
/// <param name="Fixed">A fixed range (Softmax), or null. Neither: its own calibrated range.</param>
internal readonly record struct ParamSource(Value? SameAs, ActivationRange? Fixed)
{
    /// <summary>Whether the value's range must be measured.</summary>
    public bool Calibrated => SameAs is null && Fixed is null;
}

/// <summary>
/// Decides where QuantizeLinear -> DequantizeLinear pairs go in the main graph, on the untouched float
/// model: the activation inputs of the compute nodes; their outputs where ONNX Runtime needs them
/// (always after a Conv, whose fusion needs the Q; after MatMul/Gemm only where an int8 reader
/// follows, else it fuses them into MatMulIntegerToFloat / QGemm with a float output); and the inputs
/// and outputs of the int8-capable operators that join an int8 region. A Relu or Clip that alone reads
/// a unit's output is absorbed: the pair goes after it with its range, and ONNX Runtime drops it
/// (zero point at the type's minimum). A non-compute operator joins when one of its inputs comes out
/// of the region and its output feeds the region (the largest set with that property), so int8 data
/// flows between compute nodes without a float round trip and nothing is quantized for nothing.
/// An operator with a constant input (a bias Add after a MatMul, a scale Mul) stays float: its int8
/// constant would be a lone DequantizeLinear, which ONNX Runtime on x64 does not turn into uint8
/// like int8 activation pairs (so QLinearAdd would not fuse), and MatMulIntegerToFloat followed by a
/// float Add measured as fast as the all-int8 chain on the transformer fixture.
/// </summary>
internal sealed class QdqPlacement
{
    private static readonly Dictionary<string, Int8Role> Roles = new(StringComparer.Ordinal)
    {
        ["Conv"] = Int8Role.Compute, ["MatMul"] = Int8Role.Compute, ["Gemm"] = Int8Role.Compute,
        ["MaxPool"] = Int8Role.Shape, ["Reshape"] = Int8Role.Shape, ["Transpose"] = Int8Role.Shape, ["Flatten"] = Int8Role.Shape,
        ["Squeeze"] = Int8Role.Shape, ["Unsqueeze"] = Int8Role.Shape, ["Resize"] = Int8Role.Shape,
        ["AveragePool"] = Int8Role.Unary, ["GlobalAveragePool"] = Int8Role.Unary, ["Relu"] = Int8Role.Unary, ["Clip"] = Int8Role.Unary,
        ["Softmax"] = Int8Role.Softmax,
        ["Add"] = Int8Role.Binary, ["Mul"] = Int8Role.Binary,
        ["Concat"] = Int8Role.Variadic,
    };

    private readonly Dictionary<Node, int[]> slots = [];
    private readonly Dictionary<Node, Value> tails = [];
    private readonly Dictionary<Value, Node> tailOwners = [];

    private QdqPlacement()
    {
    }

    /// <summary>Every operator type the pass knows.</summary>
    public static IReadOnlyCollection<string> KnownOpTypes => Roles.Keys;

    /// <summary>The role of a default-domain operator type, or null.</summary>
    public static Int8Role? RoleOf(string opType) => Roles.TryGetValue(opType, out var role) ? role : null;

    /// <summary>The compute nodes (with their quantized activation inputs).</summary>
    public IReadOnlyCollection<Node> Compute { get; private set; } = [];

    /// <summary>The non-compute operators that run in int8.</summary>
    public IReadOnlySet<Node> Joined { get; private set; } = new HashSet<Node>();

    /// <summary>The Relu and Clip nodes absorbed into the unit before them.</summary>
    public IReadOnlySet<Node> Absorbed { get; private set; } = new HashSet<Node>();

    /// <summary>The values that get a QuantizeLinear -> DequantizeLinear pair, in graph order.</summary>
    public IReadOnlyList<Value> Quantized { get; private set; } = [];

    /// <summary>Where each quantized value's parameters come from.</summary>
    public IReadOnlyDictionary<Value, ParamSource> Sources { get; private set; } = new Dictionary<Value, ParamSource>();

    /// <summary>The input indices of <paramref name="node"/> that read quantized data (compute or joined nodes).</summary>
    public IReadOnlyList<int> SlotsOf(Node node) => slots.TryGetValue(node, out var s) && (Compute.Contains(node) || Joined.Contains(node)) ? s : [];

    /// <summary>
    /// Whether <paramref name="value"/> leaves an int8 unit (a compute or joined node, with its absorbed
    /// activation): then every reader must read the DequantizeLinear, or ONNX Runtime cannot fuse the unit.
    /// </summary>
    public bool LeavesInt8Unit(Value value) => tailOwners.TryGetValue(value, out var owner) && (Compute.Contains(owner) || Joined.Contains(owner));

    /// <summary>
    /// Plans <paramref name="graph"/>: <paramref name="compute"/> maps each compute node to its
    /// activation input indices; <paramref name="mayJoin"/> says whether another node may run in int8
    /// (operator type allowed, not excluded, opset).
    /// </summary>
    public static QdqPlacement Plan(Graph graph, IReadOnlyDictionary<Node, int[]> compute, Func<Node, bool> mayJoin)
    {
        var plan = new QdqPlacement { Compute = compute.Keys.ToHashSet() };
        foreach (var (node, inputs) in compute)
        {
            plan.slots[node] = inputs;
        }

        var absorbed = new HashSet<Node>();
        var candidates = new HashSet<Node>();
        foreach (var node in graph.Nodes)
        {
            if (compute.ContainsKey(node))
            {
                continue;
            }

            if (node.Domain is "" or "ai.onnx" && RoleOf(node.OpType) is { } role && role != Int8Role.Compute && mayJoin(node)
                && DataInputs(node, role) is { } inputs && inputs.All(i => node.Inputs[i] is { IsWeight: false }))
            {
                plan.slots[node] = inputs;
                candidates.Add(node);
            }
        }

        // Each unit's output, after a Relu/Clip that alone reads it (ONNX Runtime's "redundant clip");
        // in graph order, so a unit is seen before the activation it may absorb.
        foreach (var node in graph.Nodes.Where(n => plan.slots.ContainsKey(n) && !absorbed.Contains(n)))
        {
            var tail = node.Outputs[0]!;
            if (RoleOf(node.OpType) != Int8Role.Shape && Absorbable(tail, mayJoin) is { } activation)
            {
                absorbed.Add(activation);
                tail = activation.Outputs[0]!;
            }

            plan.tails[node] = tail;
            plan.tailOwners[tail] = node;
        }

        candidates.ExceptWith(absorbed);
        plan.Joined = Region(plan, candidates);
        plan.Absorbed = absorbed.Where(a => plan.tailOwners.ContainsKey(a.Outputs[0]!)
            && plan.LeavesInt8Unit(a.Outputs[0]!)).ToHashSet();
        plan.Place(graph);
        return plan;
    }

    // The largest set of candidates each of which reads some value leaving an int8 unit and whose output some int8 slot reads.
    private static HashSet<Node> Region(QdqPlacement plan, HashSet<Node> candidates)
    {
        var joined = new HashSet<Node>(candidates);
        plan.Joined = joined;
        bool changed;
        do
        {
            changed = false;
            foreach (var node in joined.ToArray())
            {
                var fed = plan.slots[node].Any(i => node.Inputs[i] is { } v && plan.LeavesInt8Unit(v));
                var read = plan.tails[node].Uses.Any(u => plan.SlotsOf(u.Node).Contains(u.InputIndex));
                if (!fed || !read)
                {
                    joined.Remove(node);
                    changed = true;
                }
            }
        }
        while (changed);
        return joined;
    }

    private void Place(Graph graph)
    {
        var quantized = new HashSet<Value>();
        foreach (var node in graph.Nodes.Where(n => Compute.Contains(n) || Joined.Contains(n)))
        {
            quantized.UnionWith(slots[node].Select(i => node.Inputs[i]!));

            // ONNX Runtime fuses a Conv only with the QuantizeLinear after it.
            if (node.Is("Conv"))
            {
                quantized.Add(tails[node]);
            }
        }

        var order = graph.Nodes.Select((n, i) => (n, i)).ToDictionary(p => p.n, p => p.i);
        Quantized = quantized.OrderBy(v => v.Producer is { } p && order.TryGetValue(p, out var i) ? i : -1).ThenBy(v => v.Name, StringComparer.Ordinal).ToArray();
        Sources = Quantized.ToDictionary(v => v, v => tailOwners.TryGetValue(v, out var owner) && Joined.Contains(owner)
            ? RoleOf(owner.OpType) switch
            {
                Int8Role.Shape => new ParamSource(owner.Inputs[0], null),
                Int8Role.Softmax => new ParamSource(null, new ActivationRange(0f, 1f)),
                _ => new ParamSource(null, null),
            }
            : new ParamSource(null, null));
    }

    // The inputs an operator reads as quantized data, or null when its form is one this pass does not handle.
    private static int[]? DataInputs(Node node, Int8Role role)
    {
        if (node.Outputs.Count(o => o is not null) != 1 || node.Outputs[0] is null)
        {
            return null;
        }

        return role switch
        {
            Int8Role.Binary => node.Inputs.Count == 2 ? [0, 1] : null,
            Int8Role.Variadic => node.Inputs.Count > 0 && node.Inputs.All(i => i is not null) ? Enumerable.Range(0, node.Inputs.Count).ToArray() : null,
            Int8Role.Unary when node.Is("Clip") => ClipBounds(node) is not null ? [0] : null,
            _ => node.Inputs.Count > 0 && node.Inputs[0] is not null ? [0] : null,
        };
    }

    // A Relu or Clip (with constant bounds) that is the only reader of `value`, or null.
    private static Node? Absorbable(Value value, Func<Node, bool> mayJoin) =>
        value is { IsGraphOutput: false, Uses: [var use] } && use.InputIndex == 0 && use.Node.Graph == value.Graph
            && (use.Node.Is("Relu") || (use.Node.Is("Clip") && ClipBounds(use.Node) is not null)) && mayJoin(use.Node)
            ? use.Node
            : null;

    /// <summary>A Clip's constant bounds (attributes before opset 11, constant inputs after; absent = unbounded), or null when computed.</summary>
    public static (float Min, float Max)? ClipBounds(Node clip)
    {
        if (clip.FindAttribute("min") is not null || clip.FindAttribute("max") is not null || clip.Inputs.Count == 1)
        {
            return (clip.GetFloat("min", float.MinValue), clip.GetFloat("max", float.MaxValue));
        }

        float Bound(int index, float fallback) =>
            index < clip.Inputs.Count && clip.Inputs[index] is { } v ? v.ConstantTensor?.ToFloatArray() is [var x] ? x : float.NaN : fallback;
        var (min, max) = (Bound(1, float.MinValue), Bound(2, float.MaxValue));
        return float.IsNaN(min) || float.IsNaN(max) ? null : (min, max);
    }
}
