namespace ModelShrink.Onnx.Ir;

/// <summary>
/// Value and node names used anywhere in one model. ONNX forbids a subgraph to shadow an outer
/// name, so a new name must be unique across all scopes, not just its own graph.
/// </summary>
internal sealed class NameRegistry
{
    private readonly HashSet<string> values = new(StringComparer.Ordinal);
    private readonly HashSet<string> nodes = new(StringComparer.Ordinal);
    private int counter;

    public bool TryAdd(string name) => values.Add(name);

    public void Remove(string name) => values.Remove(name);

    public void AddNodeName(string name) => nodes.Add(name);

    public string Unique(string hint) => Next(values, hint);

    public string UniqueNodeName(string hint)
    {
        var name = Next(nodes, hint);
        nodes.Add(name);
        return name;
    }

    private string Next(HashSet<string> taken, string hint)
    {
        if (hint.Length > 0 && !taken.Contains(hint))
        {
            return hint;
        }

        string candidate;
        do
        {
            candidate = $"{hint}_{++counter}";
        }
        while (taken.Contains(candidate));

        return candidate;
    }
}
