namespace ModelShrink.Core.Passes.Cleanup;

/// <summary>
/// When each <c>ai.onnx</c> operator got a new definition (its since_version list, opsets 1 to
/// 21, from onnx/defs/operator_sets.h), and which of those changes alter what an existing node
/// means. Every other change only adds types, attributes with backward-compatible defaults,
/// negative axes or optional inputs: a node valid under the old definition means the same under
/// the new one.
/// </summary>
internal static class OpsetHistory
{
    /// <summary>The newest opset the table covers.</summary>
    public const int Newest = 21;

    private static readonly Dictionary<string, int[]> Versions = Build();

    /// <summary>
    /// Definition changes that alter a node's meaning or form, by operator and opset. Those with a
    /// rewrite in <see cref="OpsetUpgrades"/> are upgraded; the rest stop the upgrade (MSH2101).
    /// </summary>
    public static IReadOnlyDictionary<string, int[]> Breaking { get; } = new Dictionary<string, int[]>(StringComparer.Ordinal)
    {
        // opset 7 replaced legacy broadcast/axis attributes by numpy broadcasting (models below 7 are refused anyway)
        ["BatchNormalization"] = [9, 14],
        ["Clip"] = [11],
        ["Dropout"] = [10, 12],
        ["Softmax"] = [13],
        ["LogSoftmax"] = [13],
        ["Hardmax"] = [13],
        ["Slice"] = [10],
        ["Pad"] = [11],
        ["Squeeze"] = [13],
        ["Unsqueeze"] = [13],
        ["ReduceSum"] = [13],
        ["ReduceMean"] = [18],
        ["ReduceMax"] = [18],
        ["ReduceMin"] = [18],
        ["ReduceProd"] = [18],
        ["ReduceL1"] = [18],
        ["ReduceL2"] = [18],
        ["ReduceLogSum"] = [18],
        ["ReduceLogSumExp"] = [18],
        ["ReduceSumSquare"] = [18],
        ["Split"] = [13, 18],
        ["TopK"] = [10],
        ["Upsample"] = [9, 10],
        ["Resize"] = [11],
        ["Scatter"] = [11],
        ["RoiAlign"] = [16],
        ["GridSample"] = [20],
        ["Scan"] = [9],
        ["DFT"] = [20],
        ["GroupNormalization"] = [21],
    };

    /// <summary>Why a breaking change has no rewrite, for the error message.</summary>
    public static IReadOnlyDictionary<string, string> NoRewrite { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Scan"] = "Scan-9 dropped the batch dimension and the sequence_lens input of Scan-8",
        ["DFT"] = "DFT-20 moved axis from an attribute to an input and changed its meaning for real input",
        ["GroupNormalization"] = "GroupNormalization-21 takes per-channel scale and bias instead of per-group ones",
    };

    /// <summary>Whether the table knows the operator at all.</summary>
    public static bool Knows(string opType) => Versions.ContainsKey(opType);

    /// <summary>The since_version of the definition an opset-<paramref name="opset"/> model uses, or null if the op does not exist there.</summary>
    public static int? VersionAt(string opType, long opset)
    {
        if (!Versions.TryGetValue(opType, out var versions))
        {
            return null;
        }

        int? found = null;
        foreach (var v in versions)
        {
            if (v <= opset)
            {
                found = v;
            }
        }

        return found;
    }

    /// <summary>The definition changes of <paramref name="opType"/> after <paramref name="from"/> up to <paramref name="to"/>.</summary>
    public static IEnumerable<int> ChangesBetween(string opType, long from, long to) =>
        Versions.TryGetValue(opType, out var versions) ? versions.Where(v => v > from && v <= to) : [];

    private static Dictionary<string, int[]> Build()
    {
        var table = new Dictionary<string, int[]>(StringComparer.Ordinal);

        void Add(int[] versions, params string[] ops)
        {
            foreach (var op in ops)
            {
                table.Add(op, versions);
            }
        }

        Add([1, 6, 13], "Abs", "Ceil", "Exp", "Floor", "Log", "Neg", "Reciprocal", "Sigmoid", "Sqrt", "Tanh", "Tile");
        Add([7], "Acos", "Asin", "Atan", "Cos", "Sin", "Tan", "Multinomial");
        Add([9], "Acosh", "Asinh", "Atanh", "Cosh", "Sinh", "EyeLike", "Shrink", "TfIdfVectorizer");
        Add([1, 6, 7, 13, 14], "Add", "Sub", "Mul", "Div");
        Add([20], "AffineGrid", "Gelu", "ImageDecoder", "RegexFullMatch", "StringConcat", "StringSplit");
        Add([1, 7], "And", "Or", "Xor");
        Add([1, 11, 12, 13], "ArgMax", "ArgMin");
        Add([1, 7, 10, 11, 19], "AveragePool");
        Add([1, 6, 7, 9, 14, 15], "BatchNormalization");
        Add([15], "Bernoulli", "Optional");
        Add([11], "BitShift", "ConcatFromSequence", "Det", "DynamicQuantizeLinear", "Range", "Round", "SequenceAt",
            "SequenceConstruct", "SequenceEmpty", "SequenceErase", "SequenceInsert", "SequenceLength", "SplitToSequence", "Unique");
        Add([18], "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot", "CenterCropPad", "Col2Im", "Mish");
        Add([17], "BlackmanWindow", "HammingWindow", "HannWindow", "LayerNormalization", "MelWeightMatrix", "SequenceMap", "STFT");
        Add([1, 6, 9, 13, 19, 21], "Cast");
        Add([15, 19, 21], "CastLike");
        Add([12], "Celu", "Einsum");
        Add([1, 6, 11, 12, 13], "Clip");
        Add([9, 11], "Compress", "MaxUnpool", "OneHot", "Scatter");
        Add([1, 4, 11, 13], "Concat");
        Add([1, 9, 11, 12, 13, 19, 21], "Constant");
        Add([9, 20, 21], "ConstantOfShape");
        Add([1, 11], "Conv", "ConvTranspose");
        Add([10], "ConvInteger", "MatMulInteger", "QLinearConv", "ReverseSequence", "StringNormalizer", "ThresholdedRelu");
        Add([11, 14], "CumSum");
        Add([17, 20], "DFT");
        Add([19], "DeformConv");
        Add([1, 11, 13], "DepthToSpace", "Gather", "Hardmax", "LogSoftmax", "Softmax");
        Add([10, 13, 19, 21], "DequantizeLinear", "QuantizeLinear");
        Add([1, 6, 7, 10, 12, 13], "Dropout");
        Add([1, 6], "Elu", "HardSigmoid", "InstanceNormalization", "Selu");
        Add([1, 7, 11, 13, 19], "Equal");
        Add([9, 13], "Erf", "MeanVarianceNormalization", "NonZero", "Sign");
        Add([9, 13, 20], "IsNaN");
        Add([8, 13], "Expand");
        Add([1, 9, 11, 13, 21], "Flatten");
        Add([1, 3, 7, 14], "GRU");
        Add([11, 13], "GatherElements");
        Add([11, 12, 13], "GatherND");
        Add([1, 6, 7, 9, 11, 13], "Gemm");
        Add([1], "GlobalAveragePool", "GlobalMaxPool", "LpNormalization", "MaxRoiPool", "Not", "RandomNormal",
            "RandomNormalLike", "RandomUniform", "RandomUniformLike", "Softplus", "Softsign");
        Add([1, 2], "GlobalLpPool");
        Add([1, 7, 9, 13], "Greater", "Less");
        Add([12, 16], "GreaterOrEqual", "LessOrEqual");
        Add([16, 20], "GridSample");
        Add([18, 21], "GroupNormalization");
        Add([14], "HardSwish", "Trilu");
        Add([1, 13, 14, 16, 19, 21], "Identity");
        Add([1, 11, 13, 16, 19, 21], "If", "Loop");
        Add([10, 20], "IsInf");
        Add([1, 13], "LRN");
        Add([1, 7, 14], "LSTM", "RNN");
        Add([1, 6, 16], "LeakyRelu");
        Add([1, 2, 11, 18], "LpPool");
        Add([1, 9, 13], "MatMul");
        Add([1, 6, 8, 12, 13], "Max", "Min");
        Add([1, 8, 10, 11, 12], "MaxPool");
        Add([1, 6, 8, 13], "Mean", "Sum");
        Add([10, 13], "Mod");
        Add([12, 13], "NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss");
        Add([10, 11], "NonMaxSuppression");
        Add([15, 18], "OptionalGetElement", "OptionalHasElement");
        Add([1, 6, 7, 9, 16], "PRelu");
        Add([1, 2, 11, 13, 18, 19, 21], "Pad");
        Add([1, 7, 12, 13, 15], "Pow");
        Add([10, 21], "QLinearMatMul");
        Add([1, 11, 13, 18], "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMean", "ReduceProd", "ReduceSumSquare");
        Add([1, 11, 12, 13, 18, 20], "ReduceMax", "ReduceMin");
        Add([1, 11, 13], "ReduceSum");
        Add([1, 6, 13, 14], "Relu");
        Add([1, 5, 13, 14, 19, 21], "Reshape");
        Add([10, 11, 13, 18, 19], "Resize");
        Add([10, 16], "RoiAlign");
        Add([8, 9, 11, 16, 19, 21], "Scan");
        Add([11, 13, 16, 18], "ScatterElements", "ScatterND");
        Add([1, 13, 15, 19, 21], "Shape");
        Add([1, 13, 19, 21], "Size");
        Add([1, 10, 11, 13], "Slice");
        Add([1, 13], "SpaceToDepth");
        Add([1, 2, 11, 13, 18], "Split");
        Add([1, 11, 13, 21], "Squeeze", "Unsqueeze");
        Add([1, 10, 11], "TopK");
        Add([1, 13, 21], "Transpose");
        Add([1, 7, 9, 10], "Upsample");
        Add([9, 16], "Where");
        return table;
    }
}
