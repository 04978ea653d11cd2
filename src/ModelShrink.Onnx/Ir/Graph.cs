using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Onnx.Ir;

/// <summary>
/// A graph: inputs, outputs, initializers and nodes in topological order. A subgraph (an If
/// branch, a Loop or Scan body) has a <see cref="Parent"/> and may read values of outer scopes.
/// </summary>
public sealed class Graph
{
    private readonly List<Node> nodes = [];
    private readonly List<Value> initializers = [];
    private readonly List<Value> sparseInitializers = [];
    private readonly Dictionary<string, Value> scope = new(StringComparer.Ordinal);

    internal Graph(string name, Graph? parent, Node? owner, GraphProto? source, NameRegistry names)
    {
        Name = name;
        Parent = parent;
        OwnerNode = owner;
        Source = source;
        Names = names;
    }

    /// <summary>The graph's name.</summary>
    public string Name { get; set; }

    /// <summary>The enclosing graph, for a subgraph; null for the main graph.</summary>
    public Graph? Parent { get; }

    /// <summary>The node whose attribute holds this subgraph; null for the main graph.</summary>
    public Node? OwnerNode { get; }

    /// <summary>The graph inputs in order (initializers listed as inputs included).</summary>
    public List<Value> Inputs { get; } = [];

    /// <summary>The graph outputs in order.</summary>
    public List<Value> Outputs { get; } = [];

    /// <summary>The nodes in topological order.</summary>
    public IReadOnlyList<Node> Nodes => nodes;

    /// <summary>The values that are initializers of this graph, in their original order.</summary>
    public IReadOnlyList<Value> Initializers => initializers;

    /// <summary>The values that are sparse initializers of this graph, in their original order.</summary>
    public IReadOnlyList<Value> SparseInitializers => sparseInitializers;

    /// <summary>The proto it was read from: doc string, value_info order, annotations, metadata.</summary>
    internal GraphProto? Source { get; }

    internal NameRegistry Names { get; }

    /// <summary>Every value defined in this scope (not outer ones).</summary>
    public IEnumerable<Value> Values => scope.Values;

    /// <summary>Looks a name up in this scope, then in each enclosing scope.</summary>
    public Value? FindValue(string name)
    {
        for (var graph = this; graph is not null; graph = graph.Parent)
        {
            if (graph.scope.TryGetValue(name, out var value))
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>A name not yet used anywhere in the model, derived from <paramref name="hint"/>.</summary>
    public string UniqueName(string hint) => Names.Unique(hint);

    /// <summary>Defines a new value in this scope; the name must be unused in the model.</summary>
    public Value CreateValue(string name)
    {
        if (!Names.TryAdd(name))
        {
            throw new InvalidOperationException($"value name '{name}' is already used in the model");
        }

        var value = new Value(this, name);
        scope.Add(name, value);
        return value;
    }

    /// <summary>Appends a graph input of the given type.</summary>
    public Value AddInput(string name, TypeProto type)
    {
        var value = CreateValue(name);
        value.Type = type;
        Inputs.Add(value);
        return value;
    }

    /// <summary>Adds an initializer holding <paramref name="tensor"/> and returns its value.</summary>
    public Value AddInitializer(Tensor tensor)
    {
        var value = CreateValue(tensor.Name);
        value.Initializer = tensor;
        initializers.Add(value);
        return value;
    }

    /// <summary>Replaces the tensor of an existing initializer (same name).</summary>
    public void ReplaceInitializer(Value value, Tensor tensor)
    {
        if (value.Initializer is null || value.Graph != this)
        {
            throw new InvalidOperationException($"'{value.Name}' is not an initializer of graph '{Name}'");
        }

        value.Initializer = tensor.Name == value.Name ? tensor : tensor.WithName(value.Name);
    }

    /// <summary>
    /// Stores an initializer of this graph sparsely from now on (same name, same readers): it leaves
    /// <see cref="Initializers"/> and is written as a <c>sparse_initializer</c>.
    /// </summary>
    public void StoreSparse(Value value, SparseTensor sparse)
    {
        if (value.Initializer is null || value.Graph != this)
        {
            throw new InvalidOperationException($"'{value.Name}' is not an initializer of graph '{Name}'");
        }

        if (!sparse.Dims.SequenceEqual(value.Initializer.Dims) || sparse.DataType != value.Initializer.DataType)
        {
            throw new InvalidOperationException($"sparse tensor {sparse} does not have the type and shape of initializer {value.Initializer}");
        }

        initializers.Remove(value);
        value.Initializer = null;
        value.SparseInitializer = sparse.Name == value.Name ? sparse : sparse.WithName(value.Name);
        sparseInitializers.Add(value);
    }

    /// <summary>Removes an unused initializer (and its graph-input entry, if it had one).</summary>
    public void RemoveInitializer(Value value)
    {
        if (value.Uses.Count > 0 || value.IsGraphOutput)
        {
            throw new InvalidOperationException($"initializer '{value.Name}' is still used");
        }

        initializers.Remove(value);
        Inputs.Remove(value);
        Forget(value);
    }

    /// <summary>
    /// Gives <paramref name="value"/>, defined in this graph, the name <paramref name="newName"/>,
    /// which must be unused anywhere in the model (an initializer's tensor is renamed with it).
    /// Readers hold the value itself, so they follow; this is how a pass keeps a graph output's
    /// name when the node that computed it goes away.
    /// </summary>
    public void RenameValue(Value value, string newName)
    {
        if (value.Graph != this)
        {
            throw new InvalidOperationException($"'{value.Name}' is not defined in graph '{Name}'");
        }

        if (value.Name == newName)
        {
            return;
        }

        if (FindValue(newName) is not null || !Names.TryAdd(newName))
        {
            throw new InvalidOperationException($"value name '{newName}' is already used in the model");
        }

        Forget(value);
        value.Name = newName;
        if (value.Initializer is { } tensor)
        {
            value.Initializer = tensor.WithName(newName);
        }

        if (value.SparseInitializer is { } sparse)
        {
            value.SparseInitializer = sparse.WithName(newName);
        }

        scope.Add(newName, value);
    }

    /// <summary>
    /// Adds a node reading <paramref name="inputs"/> and producing new values named after
    /// <paramref name="outputNames"/> (made unique), placed before <paramref name="before"/> or at the end.
    /// </summary>
    public Node AddNode(string opType, IEnumerable<Value?> inputs, IEnumerable<string> outputNames,
        IEnumerable<Attribute>? attributes = null, string domain = "", string? name = null, Node? before = null)
    {
        var node = new Node(this, opType, domain, name ?? UniqueNodeName(opType), null);
        foreach (var input in inputs)
        {
            node.AddInput(input);
        }

        foreach (var outputName in outputNames)
        {
            node.AddOutput(CreateValue(UniqueName(outputName)));
        }

        if (attributes is not null)
        {
            node.Attributes.AddRange(attributes);
        }

        Insert(node, before);
        return node;
    }

    /// <summary>Removes a node whose outputs nobody reads any more.</summary>
    public void RemoveNode(Node node)
    {
        foreach (var output in node.Outputs)
        {
            if (output is not null && (output.Uses.Count > 0 || output.IsGraphOutput))
            {
                throw new InvalidOperationException($"cannot remove {node}: output '{output.Name}' is still used");
            }
        }

        node.DetachInputs();
        foreach (var output in node.Outputs)
        {
            if (output is not null)
            {
                Forget(output);
            }
        }

        nodes.Remove(node);
    }

    /// <summary>This graph and every subgraph nested in it, depth first.</summary>
    public IEnumerable<Graph> EnumerateGraphs()
    {
        yield return this;
        foreach (var node in nodes)
        {
            foreach (var subgraph in node.Subgraphs)
            {
                foreach (var nested in subgraph.EnumerateGraphs())
                {
                    yield return nested;
                }
            }
        }
    }

    /// <summary>Every node of this graph and of all nested subgraphs.</summary>
    public IEnumerable<Node> EnumerateNodes() => EnumerateGraphs().SelectMany(g => g.Nodes);

    /// <summary>
    /// The values of enclosing scopes that the nodes of this graph (and its subgraphs) read: the
    /// implicit inputs of the node that owns it.
    /// </summary>
    public IEnumerable<Value> OuterScopeReads() =>
        EnumerateNodes().SelectMany(n => n.Inputs).OfType<Value>().Where(v => !IsWithin(v.Graph)).Distinct();

    /// <summary>Reorders the nodes topologically, keeping the current order wherever it is already valid.</summary>
    public void SortTopologically() => TopologicalSort.Sort(this, nodes);

    internal void AppendNode(Node node) => nodes.Add(node);

    internal void AppendInitializer(Value value) => initializers.Add(value);

    internal void AppendSparseInitializer(Value value) => sparseInitializers.Add(value);

    internal void Define(Value value) => scope.Add(value.Name, value);

    internal bool Defines(string name) => scope.ContainsKey(name);

    private bool IsWithin(Graph graph)
    {
        for (var g = graph; g is not null; g = g.Parent)
        {
            if (g == this)
            {
                return true;
            }
        }

        return false;
    }

    private void Insert(Node node, Node? before)
    {
        var index = before is null ? -1 : nodes.IndexOf(before);
        if (index < 0)
        {
            nodes.Add(node);
        }
        else
        {
            nodes.Insert(index, node);
        }
    }

    /// <summary>A node name not yet used anywhere in the model, derived from <paramref name="hint"/>, and now reserved.</summary>
    public string UniqueNodeName(string hint) => Names.UniqueNodeName(hint);

    private void Forget(Value value)
    {
        scope.Remove(value.Name);
        Names.Remove(value.Name);
    }

    /// <inheritdoc />
    public override string ToString() => $"graph {Name} ({nodes.Count} nodes)";
}
