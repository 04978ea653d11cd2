using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Cleanup;

/// <summary>
/// The element type of a value when the model says it or an operator's definition fixes it:
/// declared types, initializers, Constant nodes, Cast, ops with a fixed output type, and ops whose
/// output has the type of one of their inputs (followed back through the graph). Null when unknown;
/// never a guess.
/// </summary>
internal static class ElementTypeInference
{
    // Ops whose outputs all have the element type of input 0.
    private static readonly HashSet<string> SameAsFirstInput = new(StringComparer.Ordinal)
    {
        "Abs", "Acos", "Acosh", "Add", "Asin", "Asinh", "Atan", "Atanh", "AveragePool", "Ceil",
        "Celu", "Clip", "Concat", "Conv", "ConvTranspose", "Cos", "Cosh", "CumSum", "DepthToSpace", "Div", "Elu", "Erf",
        "Exp", "Expand", "Flatten", "Floor", "Gather", "GatherElements", "GatherND", "Gelu", "Gemm", "GlobalAveragePool",
        "GlobalLpPool", "GlobalMaxPool", "GroupNormalization", "HardSigmoid", "HardSwish", "Hardmax", "Identity",
        "InstanceNormalization", "LRN", "LeakyRelu", "Log", "LogSoftmax", "LpNormalization", "LpPool",
        "MatMul", "Max", "Mean", "MeanVarianceNormalization", "Min", "Mish", "Mod", "Mul", "Neg", "PRelu", "Pad", "Pow",
        "Reciprocal", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin",
        "ReduceProd", "ReduceSum", "ReduceSumSquare", "Relu", "Reshape", "Resize", "ReverseSequence", "Round", "ScatterElements",
        "ScatterND", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Slice", "Softmax", "Softplus", "Softsign",
        "SpaceToDepth", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tan", "Tanh", "ThresholdedRelu", "Tile", "Transpose",
        "Trilu", "Unsqueeze", "Upsample",
    };

    // Ops whose output 0 has the element type of input 0 (other outputs differ).
    private static readonly HashSet<string> FirstOutputSameAsFirstInput = new(StringComparer.Ordinal)
    {
        "BatchNormalization", "Dropout", "LayerNormalization", "MaxPool", "TopK", "Unique",
    };

    private static readonly HashSet<string> Int64Results = new(StringComparer.Ordinal)
    {
        "Shape", "Size", "NonZero", "ArgMax", "ArgMin", "NonMaxSuppression",
    };

    private static readonly HashSet<string> BoolResults = new(StringComparer.Ordinal)
    {
        "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf",
    };

    /// <summary>The element type of <paramref name="value"/>, or null when the model does not determine it.</summary>
    public static DataType? Of(Value value)
    {
        var seen = new HashSet<Value>();
        for (var current = value; current is not null && seen.Add(current);)
        {
            if (current.ElementType is { } declared && declared != DataType.Undefined)
            {
                return declared;
            }

            if (current.Producer is not { } producer || !GraphEdits.IsDefaultDomain(producer))
            {
                return null;
            }

            var op = producer.OpType;
            if (op == "Constant")
            {
                return producer.ConstantValue()?.DataType;
            }

            if (op is "Cast" && producer.FindAttribute("to") is { } to)
            {
                return (DataType)to.Int;
            }

            if (op == "CastLike")
            {
                current = producer.Inputs.Count > 1 ? producer.Inputs[1] : null;
                continue;
            }

            if (Int64Results.Contains(op) || (op is "TopK" or "MaxPool" && current.ProducerOutputIndex == 1))
            {
                return DataType.Int64;
            }

            if (BoolResults.Contains(op))
            {
                return DataType.Bool;
            }

            if (op == "Where")
            {
                current = producer.Inputs.Count > 1 ? producer.Inputs[1] : null;
                continue;
            }

            if (SameAsFirstInput.Contains(op) || (FirstOutputSameAsFirstInput.Contains(op) && current.ProducerOutputIndex == 0))
            {
                current = producer.Inputs.Count > 0 ? producer.Inputs[0] : null;
                continue;
            }

            return null;
        }

        return null;
    }
}
