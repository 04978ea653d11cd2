using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Types;

/// <summary>
/// Element types of values (no shapes): the small part of ONNX type inference the passes need,
/// with one table of operator rules and two ways to ask.
/// <list type="bullet">
/// <item><see cref="Of"/>: one value, certain or null. Declared types, initializers, Constant, Cast,
/// ops with a fixed output type, and ops whose output has an input's type, followed back through
/// the graph; an op it does not know gives null, never a guess (clean-up removes a Cast on it).</item>
/// <item><see cref="Infer"/>: every value of a model, subgraphs included, forward, for the fp16 and
/// int8 static passes, which must place casts everywhere: an op it does not know (a contrib op) is
/// taken to keep its first typed input's type.</item>
/// </list>
/// A sequence value gets its elements' type; maps and optionals are not tracked.
/// </summary>
internal sealed class ElementTypeInference
{
    // Ops whose outputs all have the element type of input 0 (the certain rule's list).
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
        // Output 0 only; their other outputs have fixed types, answered first below.
        "BatchNormalization", "Dropout", "LayerNormalization", "MaxPool", "TopK", "Unique",
    };

    private readonly Dictionary<Value, DataType> types = [];
    private readonly long opset;

    private ElementTypeInference(long opset) => this.opset = opset;

    /// <summary>The element type of <paramref name="value"/>, or null when the model does not determine it.</summary>
    public static DataType? Of(Value value)
    {
        var seen = new HashSet<Value>();
        DataType? Walk(Value? current)
        {
            if (current is null || !seen.Add(current))
            {
                return null;
            }

            if (current.ElementType is { } declared && declared != DataType.Undefined)
            {
                return declared;
            }

            return current.Producer is { } producer && producer.Domain is "" or "ai.onnx"
                ? OutputType(producer, current.ProducerOutputIndex, Walk, strict: true, subgraphs: null)
                : null;
        }

        return Walk(value);
    }

    /// <summary>Infers the element types of <paramref name="model"/>'s values.</summary>
    public static IReadOnlyDictionary<Value, DataType> Infer(Model model)
    {
        var inference = new ElementTypeInference(model.Opsets.Default);
        inference.InferGraph(model.Graph);
        return inference.types;
    }

    // The rules: what output `index` of `node` is, given a way to type its inputs. Strict: only
    // what the op's definition fixes; otherwise an unknown op keeps its first typed input's type.
    private static DataType? OutputType(Node node, int index, Func<Value?, DataType?> typeOf, bool strict, Func<Node, string, int, DataType?>? subgraphs)
    {
        DataType? Input(int i) => i < node.Inputs.Count ? typeOf(node.Inputs[i]) : null;
        DataType? Guess() => strict ? null : node.Inputs.Select(typeOf).FirstOrDefault(t => t is not null);
        if (node.Domain is not ("" or "ai.onnx"))
        {
            return Guess();
        }

        return node.OpType switch
        {
            "Constant" => node.ConstantValue()?.DataType,
            "Cast" => node.FindAttribute("to") is { } to ? (DataType)to.Int : null,
            "CastLike" => Input(1),
            "Shape" or "Size" or "NonZero" or "ArgMax" or "ArgMin" or "NonMaxSuppression" or "SequenceLength" => DataType.Int64,
            "SequenceEmpty" => (DataType)node.GetInt("dtype", (long)DataType.Float),
            "TopK" or "MaxPool" or "Unique" when index > 0 => DataType.Int64,
            "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "Not" or "And" or "Or" or "Xor"
                or "IsNaN" or "IsInf" or "RegexFullMatch" => DataType.Bool,
            "Dropout" when index == 1 => DataType.Bool,
            "ConstantOfShape" => node.FindAttribute("value")?.Tensor?.DataType ?? DataType.Float,
            "RandomNormal" or "RandomUniform" => (DataType)node.GetInt("dtype", (long)DataType.Float),
            "RandomNormalLike" or "RandomUniformLike" or "EyeLike" or "Bernoulli" =>
                node.FindAttribute("dtype") is { } dtype ? (DataType)dtype.Int : Input(0),
            "Multinomial" => (DataType)node.GetInt("dtype", (long)DataType.Int32),
            "HannWindow" or "HammingWindow" or "BlackmanWindow" or "MelWeightMatrix" =>
                (DataType)node.GetInt("output_datatype", (long)DataType.Float),
            "TfIdfVectorizer" => DataType.Float,
            "LayerNormalization" when index > 0 => (DataType)node.GetInt("stash_type", (long)DataType.Float),
            "BatchNormalization" when index > 0 => strict ? null : Guess(),
            "Where" => Input(1),
            "OneHot" => Input(2),
            "QuantizeLinear" => Input(2) ?? (node.FindAttribute("output_dtype") is { Int: > 0 } q ? (DataType)q.Int : DataType.UInt8),
            "DequantizeLinear" => node.FindAttribute("output_dtype") is { Int: > 0 } d ? (DataType)d.Int : Input(1),
            "DynamicQuantizeLinear" => index == 1 ? DataType.Float : DataType.UInt8,
            "MatMulInteger" or "ConvInteger" => DataType.Int32,
            "QLinearMatMul" or "QLinearConv" => Input(7),
            "StringNormalizer" or "StringConcat" or "StringSplit" when index == 0 => DataType.String,
            "StringSplit" => DataType.Int64,
            "ImageDecoder" => DataType.UInt8,
            "If" => subgraphs?.Invoke(node, "then_branch", index) ?? subgraphs?.Invoke(node, "else_branch", index),
            "Loop" => subgraphs?.Invoke(node, "body", index + 1),
            "Scan" => subgraphs?.Invoke(node, "body", index),
            var op when SameAsFirstInput.Contains(op) => Input(0),
            _ => Guess(),
        };
    }

    private DataType? TypeOf(Value? value) => value is not null && types.TryGetValue(value, out var type) ? type : null;

    private void Set(Value? value, DataType? type)
    {
        if (value is not null && type is { } t && t != DataType.Undefined)
        {
            types[value] = t;
        }
    }

    private void InferGraph(Graph graph)
    {
        foreach (var input in graph.Inputs)
        {
            Set(input, input.ElementType);
        }

        foreach (var initializer in graph.Initializers)
        {
            Set(initializer, initializer.Initializer!.DataType);
        }

        foreach (var node in graph.Nodes)
        {
            InferSubgraphs(node);
            for (var i = 0; i < node.Outputs.Count; i++)
            {
                if (node.Outputs[i] is { } output)
                {
                    Set(output, output.ElementType ?? OutputType(node, i, TypeOf, strict: false, SubgraphOutputType));
                }
            }
        }
    }

    // Loop and Scan bodies read their inputs from the node's inputs; declared types win.
    private void InferSubgraphs(Node node)
    {
        foreach (var attribute in node.Attributes)
        {
            foreach (var subgraph in attribute.Graphs)
            {
                for (var j = 0; j < subgraph.Inputs.Count; j++)
                {
                    var input = subgraph.Inputs[j];
                    Set(input, input.ElementType ?? BodyInputType(node, attribute.Name, j));
                }

                InferGraph(subgraph);
            }
        }
    }

    private DataType? BodyInputType(Node node, string attribute, int index)
    {
        if (node.Is("Loop") && attribute == "body")
        {
            return index switch
            {
                0 => DataType.Int64,
                1 => DataType.Bool,
                _ => index < node.Inputs.Count ? TypeOf(node.Inputs[index]) : null,
            };
        }

        if (node.Is("Scan") && attribute == "body")
        {
            var offset = opset < 9 ? 1 : 0;
            return index + offset < node.Inputs.Count ? TypeOf(node.Inputs[index + offset]) : null;
        }

        return null;
    }

    private DataType? SubgraphOutputType(Node node, string attribute, int index) =>
        node.FindAttribute(attribute)?.Graphs.FirstOrDefault() is { } graph && index < graph.Outputs.Count
            ? TypeOf(graph.Outputs[index]) ?? graph.Outputs[index].ElementType
            : null;
}
