namespace ModelShrink.Core.Quantization.Operators;

/// <summary>The registry from operator type to its quantizer.</summary>
public static class OperatorQuantizers
{
    private static readonly IOperatorQuantizer[] All =
    [
        new MatMulQuantizer(),
        new GemmQuantizer(),
        new ConvQuantizer(),
        new RecurrentQuantizer(),
    ];

    private static readonly Dictionary<string, IOperatorQuantizer> ByOpType =
        All.SelectMany(q => q.OpTypes.Select(op => (op, q))).ToDictionary(p => p.op, p => p.q, StringComparer.Ordinal);

    /// <summary>Every operator type that has a quantizer.</summary>
    public static IReadOnlyCollection<string> OpTypes => ByOpType.Keys;

    /// <summary>The quantizer for <paramref name="opType"/>, or null.</summary>
    public static IOperatorQuantizer? Find(string opType) => ByOpType.GetValueOrDefault(opType);
}
