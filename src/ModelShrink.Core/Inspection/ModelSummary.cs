namespace ModelShrink.Core.Inspection;

/// <summary>What <c>modelshrink inspect</c> reports about a model; serialized as its --json output.</summary>
public sealed record ModelSummary(
    string File,
    long FileBytes,
    long IrVersion,
    string Producer,
    IReadOnlyList<OpsetSummary> Opsets,
    IReadOnlyList<TensorSignature> Inputs,
    IReadOnlyList<TensorSignature> Outputs,
    int NodeCount,
    int SubgraphCount,
    IReadOnlyList<OpCount> Operators,
    long ParameterCount,
    long ParameterBytes,
    IReadOnlyList<DataTypeTotal> ParametersByType,
    IReadOnlyList<WeightSummary> LargestWeights,
    IReadOnlyList<ExternalFileSummary> ExternalData);

/// <summary>One opset import.</summary>
public sealed record OpsetSummary(string Domain, long Version);

/// <summary>A graph input or output: name, element type and shape (symbolic dimensions by name, unknown as "?").</summary>
public sealed record TensorSignature(string Name, string Type, IReadOnlyList<string> Shape);

/// <summary>How many nodes of one operator the model has, subgraphs included.</summary>
public sealed record OpCount(string OpType, int Count);

/// <summary>Parameters of one element type.</summary>
public sealed record DataTypeTotal(string Type, long Count, long Bytes);

/// <summary>One weight: where it lives (initializer or Constant node), type, shape and size.</summary>
public sealed record WeightSummary(string Name, string Type, IReadOnlyList<long> Shape, long Elements, long Bytes, string Storage);

/// <summary>An external-data file the model reads, and how many of its bytes.</summary>
public sealed record ExternalFileSummary(string Location, int Tensors, long Bytes);
