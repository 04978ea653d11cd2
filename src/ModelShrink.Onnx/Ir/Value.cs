using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Onnx.Ir;

/// <summary>One place where a value is read: a node and the index of the input slot.</summary>
public readonly record struct Use(Node Node, int InputIndex);

/// <summary>
/// A named value in a graph (SSA): produced once (by a node, as a graph input, or as an
/// initializer) and read by any number of nodes, including nodes inside subgraphs that reference
/// it from an outer scope.
/// </summary>
public sealed class Value
{
    private readonly List<Use> uses = [];

    internal Value(Graph graph, string name)
    {
        Graph = graph;
        Name = name;
    }

    /// <summary>The value's name; unique in the model.</summary>
    public string Name { get; internal set; }

    /// <summary>The graph (scope) that defines this value.</summary>
    public Graph Graph { get; }

    /// <summary>The node that computes this value, or null for graph inputs and initializers.</summary>
    public Node? Producer { get; internal set; }

    /// <summary>Which output of <see cref="Producer"/> this value is.</summary>
    public int ProducerOutputIndex { get; internal set; }

    /// <summary>Every node input that reads this value, in any scope.</summary>
    public IReadOnlyList<Use> Uses => uses;

    /// <summary>The declared type and shape (from the graph's inputs, outputs or value_info), if known.</summary>
    public TypeProto? Type { get; set; }

    /// <summary>The value_info entry it was read from, kept so doc strings and metadata survive a save.</summary>
    internal ValueInfoProto? Info { get; set; }

    /// <summary>The initializer tensor, when this value is a graph initializer.</summary>
    public Tensor? Initializer { get; internal set; }

    /// <summary>
    /// The sparse tensor, when this value is a sparse initializer (<c>sparse_initializer</c>). Such a
    /// value is not a <see cref="IsWeight"/> to passes: storing weights sparsely is the last step.
    /// </summary>
    public SparseTensor? SparseInitializer { get; internal set; }

    /// <summary>Whether this value is one of its graph's inputs.</summary>
    public bool IsGraphInput => Graph.Inputs.Contains(this);

    /// <summary>Whether this value is one of its graph's outputs.</summary>
    public bool IsGraphOutput => Graph.Outputs.Contains(this);

    /// <summary>
    /// The constant data behind this value, wherever the exporter put it: an initializer (also one
    /// listed as a graph input), or the output of a Constant node. Null for computed values.
    /// </summary>
    public Tensor? ConstantTensor => Initializer ?? (Producer is { IsConstant: true } constant ? constant.ConstantValue() : null);

    /// <summary>Whether the value is a weight: constant data, in any of the forms <see cref="ConstantTensor"/> reads.</summary>
    public bool IsWeight => Initializer is not null || Producer is { IsConstant: true };

    /// <summary>The element type, when the declared type is a tensor type.</summary>
    public DataType? ElementType => Initializer?.DataType
        ?? (Type?.TensorType is { HasElemType: true } t ? (DataType)t.ElemType : null);

    /// <summary>
    /// Makes every reader of this value read <paramref name="replacement"/> instead, except
    /// <paramref name="except"/> (typically the node that computes the replacement from this value).
    /// </summary>
    public void ReplaceAllUsesWith(Value replacement, Node? except = null)
    {
        foreach (var use in uses.ToArray())
        {
            if (use.Node != except)
            {
                use.Node.SetInput(use.InputIndex, replacement);
            }
        }

        var graph = Graph;
        for (var i = 0; i < graph.Outputs.Count; i++)
        {
            if (graph.Outputs[i] == this)
            {
                graph.Outputs[i] = replacement;
            }
        }
    }

    internal void AddUse(Node node, int index) => uses.Add(new Use(node, index));

    internal void RemoveUse(Node node, int index) => uses.Remove(new Use(node, index));

    /// <inheritdoc />
    public override string ToString() => Name;
}
