using ModelShrink.Onnx.Protobuf;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Onnx.Ir;

/// <summary>
/// One operator application. Inputs and outputs are <see cref="Value"/>s (null marks an omitted
/// optional input or output); changing an input keeps the values' use lists right.
/// </summary>
public sealed class Node
{
    private readonly List<Value?> inputs = [];
    private readonly List<Value?> outputs = [];

    internal Node(Graph graph, string opType, string domain, string name, NodeProto? source)
    {
        Graph = graph;
        OpType = opType;
        Domain = domain;
        Name = name;
        Source = source;
    }

    /// <summary>The node's name (may be empty in ONNX).</summary>
    public string Name { get; set; }

    /// <summary>The operator, e.g. <c>Conv</c>.</summary>
    public string OpType { get; set; }

    /// <summary>The operator's domain; empty for the default ONNX domain (<c>ai.onnx</c>).</summary>
    public string Domain { get; set; }

    /// <summary>The graph this node belongs to.</summary>
    public Graph Graph { get; }

    /// <summary>The proto it was read from: doc string, metadata and fields the IR does not model.</summary>
    internal NodeProto? Source { get; }

    /// <summary>The inputs in slot order; null for an omitted optional input.</summary>
    public IReadOnlyList<Value?> Inputs => inputs;

    /// <summary>The outputs in slot order; null for an omitted optional output.</summary>
    public IReadOnlyList<Value?> Outputs => outputs;

    /// <summary>The attributes in their original order.</summary>
    public List<Attribute> Attributes { get; } = [];

    /// <summary>Whether this is an ONNX-domain operator of the given type.</summary>
    public bool Is(string opType) => OpType == opType && (Domain.Length == 0 || Domain == "ai.onnx");

    /// <summary>Whether this is a Constant node of the default domain.</summary>
    public bool IsConstant => Is("Constant");

    /// <summary>The subgraphs held in this node's attributes (If branches, Loop and Scan bodies).</summary>
    public IEnumerable<Graph> Subgraphs => Attributes.SelectMany(a => a.Graphs);

    /// <summary>The attribute with this name, or null.</summary>
    public Attribute? FindAttribute(string name) => Attributes.Find(a => a.Name == name);

    /// <summary>An INT attribute's value, or <paramref name="fallback"/> when absent.</summary>
    public long GetInt(string name, long fallback) => FindAttribute(name)?.Int ?? fallback;

    /// <summary>An INTS attribute's value, or null when absent.</summary>
    public IReadOnlyList<long>? GetInts(string name) => FindAttribute(name)?.Ints;

    /// <summary>A FLOAT attribute's value, or <paramref name="fallback"/> when absent.</summary>
    public float GetFloat(string name, float fallback) => FindAttribute(name)?.Float ?? fallback;

    /// <summary>A STRING attribute's value, or <paramref name="fallback"/> when absent.</summary>
    public string GetString(string name, string fallback) => FindAttribute(name)?.String ?? fallback;

    /// <summary>Sets or replaces an attribute by name.</summary>
    public void SetAttribute(Attribute attribute)
    {
        var index = Attributes.FindIndex(a => a.Name == attribute.Name);
        if (index >= 0)
        {
            Attributes[index] = attribute;
        }
        else
        {
            Attributes.Add(attribute);
        }
    }

    /// <summary>Points input <paramref name="index"/> at <paramref name="value"/>, keeping use lists right.</summary>
    public void SetInput(int index, Value? value)
    {
        inputs[index]?.RemoveUse(this, index);
        inputs[index] = value;
        value?.AddUse(this, index);
    }

    /// <summary>Appends an input slot.</summary>
    public void AddInput(Value? value)
    {
        inputs.Add(value);
        value?.AddUse(this, inputs.Count - 1);
    }

    /// <summary>Drops trailing input slots down to <paramref name="count"/>.</summary>
    public void TruncateInputs(int count)
    {
        for (var i = inputs.Count - 1; i >= count; i--)
        {
            inputs[i]?.RemoveUse(this, i);
            inputs.RemoveAt(i);
        }
    }

    internal void AddOutput(Value? value)
    {
        if (value is not null)
        {
            value.Producer = this;
            value.ProducerOutputIndex = outputs.Count;
        }

        outputs.Add(value);
    }

    internal void DetachInputs()
    {
        for (var i = 0; i < inputs.Count; i++)
        {
            inputs[i]?.RemoveUse(this, i);
        }
    }

    /// <summary>The tensor a Constant node produces, from whichever value attribute it uses.</summary>
    public Tensor? ConstantValue()
    {
        if (!IsConstant || Attributes.Count != 1 || Outputs.Count != 1 || Outputs[0] is not { } output)
        {
            return null;
        }

        var attribute = Attributes[0];
        return attribute.Name switch
        {
            "value" => attribute.Tensor?.Name == output.Name ? attribute.Tensor : attribute.Tensor?.WithName(output.Name),
            "value_float" => Tensor.FromArray(output.Name, [], [attribute.Float]),
            "value_floats" => Tensor.FromArray(output.Name, [attribute.Floats.Count], attribute.Floats.ToArray()),
            "value_int" => Tensor.FromArray(output.Name, [], [attribute.Int]),
            "value_ints" => Tensor.FromArray(output.Name, [attribute.Ints.Count], attribute.Ints.ToArray()),
            "value_string" => Tensor.FromStrings(output.Name, [], [attribute.String]),
            "value_strings" => Tensor.FromStrings(output.Name, [attribute.Strings.Count], attribute.Strings),
            _ => null,
        };
    }

    /// <inheritdoc />
    public override string ToString() => $"{OpType}({Name})";
}
