using ModelShrink.Onnx.Protobuf;

namespace ModelShrink.Onnx.Ir;

/// <summary>
/// A loaded ONNX model: the IR of its main graph plus the model-level fields. Fields the IR does
/// not model (functions, training_info, metadata, unknown fields) stay in the proto and are written
/// back untouched.
/// </summary>
public sealed class Model
{
    internal Model(ModelProto proto, Graph graph, string? path)
    {
        Proto = proto;
        Graph = graph;
        Path = path;
        Opsets = new OpsetImports(proto.OpsetImport);
    }

    /// <summary>Creates an empty model: an empty main graph, the given IR version and opset imports.</summary>
    public static Model Create(string graphName, long irVersion, params (string Domain, long Version)[] opsets)
    {
        var proto = new ModelProto { IrVersion = irVersion, ProducerName = "ModelShrink", Graph = new GraphProto { Name = graphName } };
        foreach (var (domain, version) in opsets)
        {
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        }

        return new Model(proto, new Graph(graphName, null, null, null, new NameRegistry()), null);
    }

    /// <summary>The main graph.</summary>
    public Graph Graph { get; private set; }

    /// <summary>The file the model was loaded from, if any.</summary>
    public string? Path { get; }

    /// <summary>The operator sets the model imports.</summary>
    public OpsetImports Opsets { get; private set; }

    internal ModelProto Proto { get; private set; }

    /// <summary>
    /// Takes over the graph, opset imports and model-level fields of <paramref name="other"/>, e.g.
    /// a copy that an outside tool rewrote and that was loaded back. <see cref="Path"/> stays.
    /// </summary>
    public void ReplaceWith(Model other)
    {
        Proto = other.Proto;
        Graph = other.Graph;
        Opsets = other.Opsets;
    }

    /// <summary>The ONNX IR version (ir_version).</summary>
    public long IrVersion
    {
        get => Proto.IrVersion;
        set => Proto.IrVersion = value;
    }

    /// <summary>The producing tool's name.</summary>
    public string ProducerName
    {
        get => Proto.ProducerName;
        set => Proto.ProducerName = value;
    }

    /// <summary>The producing tool's version.</summary>
    public string ProducerVersion
    {
        get => Proto.ProducerVersion;
        set => Proto.ProducerVersion = value;
    }

    /// <summary>The model's domain.</summary>
    public string Domain => Proto.Domain;

    /// <summary>The model's own version number.</summary>
    public long ModelVersion => Proto.ModelVersion;

    /// <summary>The model's doc string.</summary>
    public string DocString => Proto.DocString;

    /// <summary>The model's metadata_props as key/value pairs.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata =>
        Proto.MetadataProps.Select(p => KeyValuePair.Create(p.Key, p.Value)).ToArray();

    /// <summary>The number of model-local functions (kept verbatim).</summary>
    public int FunctionCount => Proto.Functions.Count;

    /// <summary>Sets or adds a metadata_props entry.</summary>
    public void SetMetadata(string key, string value)
    {
        var entry = Proto.MetadataProps.FirstOrDefault(p => p.Key == key);
        if (entry is null)
        {
            Proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }
        else
        {
            entry.Value = value;
        }
    }
}

/// <summary>The model's opset_import list, by domain (empty string = the default ONNX domain).</summary>
public sealed class OpsetImports
{
    private readonly IList<OperatorSetIdProto> entries;

    internal OpsetImports(IList<OperatorSetIdProto> entries) => this.entries = entries;

    /// <summary>Each imported domain and its version.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> All =>
        entries.Select(e => KeyValuePair.Create(e.Domain, e.Version)).ToArray();

    /// <summary>
    /// The lowest IR version a model importing default-domain <paramref name="opset"/> may declare
    /// (ONNX's versioning table: opset 21-22 came with IR 10, opset 23 with IR 11).
    /// </summary>
    public static long MinimumIrVersion(long opset) => opset switch
    {
        <= 8 => 3,
        9 => 4,
        10 => 5,
        11 => 6,
        <= 14 => 7,
        <= 18 => 8,
        <= 20 => 9,
        <= 22 => 10,
        _ => 11,
    };

    /// <summary>Sets the model's default-domain opset and raises its IR version to match.</summary>
    public static void RaiseDefault(Model model, long opset)
    {
        model.Opsets.Set("", opset);
        model.IrVersion = Math.Max(model.IrVersion, MinimumIrVersion(opset));
    }

    /// <summary>The default ONNX domain's version (0 if not imported).</summary>
    public long Default => this[""] ?? 0;

    /// <summary>The version imported for a domain (<c>ai.onnx</c> and empty are the same), or null.</summary>
    public long? this[string domain]
    {
        get
        {
            var entry = Find(domain);
            return entry is null ? null : entry.Version;
        }
    }

    /// <summary>Sets a domain's version, adding the import if missing.</summary>
    public void Set(string domain, long version)
    {
        var entry = Find(domain);
        if (entry is null)
        {
            entries.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        }
        else
        {
            entry.Version = version;
        }
    }

    private OperatorSetIdProto? Find(string domain)
    {
        var isDefault = domain is "" or "ai.onnx";
        return entries.FirstOrDefault(e => isDefault ? e.Domain is "" or "ai.onnx" : e.Domain == domain);
    }
}
