using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Fp16;

/// <summary>
/// Element types of every tensor value in a model, subgraphs included: declared types where the
/// model has them (inputs, outputs, value_info, initializers), otherwise derived from the op that
/// computes the value. Exporters rarely write value_info for intermediate values, and the fp16
/// pass must know which ones are float32, so this is the small part of ONNX type inference it needs
/// (element types only, no shapes). A sequence value gets its elements' type (so sequences of
/// float32 tensors convert like tensors); maps and optionals are not tracked.
/// </summary>
internal sealed class ElementTypeInference
{
    private readonly Dictionary<Value, DataType> types = [];
    private readonly long opset;

    private ElementTypeInference(long opset) => this.opset = opset;

    /// <summary>Infers the element types of <paramref name="model"/>'s values.</summary>
    public static IReadOnlyDictionary<Value, DataType> Infer(Model model)
    {
        var inference = new ElementTypeInference(model.Opsets.Default);
        inference.InferGraph(model.Graph);
        return inference.types;
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
                var output = node.Outputs[i];
                if (output is not null)
                {
                    Set(output, output.ElementType ?? OutputType(node, i));
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

    private DataType? OutputType(Node node, int index)
    {
        if (node.Domain is not ("" or "ai.onnx"))
        {
            return FirstInputType(node);
        }

        return node.OpType switch
        {
            "Constant" => node.ConstantValue()?.DataType,
            "Cast" => (DataType)node.GetInt("to", 0),
            "CastLike" => TypeOf(node.Inputs.ElementAtOrDefault(1)),
            "Shape" or "Size" or "NonZero" or "ArgMax" or "ArgMin" or "NonMaxSuppression" or "SequenceLength" => DataType.Int64,
            "SequenceEmpty" => (DataType)node.GetInt("dtype", (long)DataType.Float),
            "TopK" or "MaxPool" or "Unique" when index > 0 => DataType.Int64,
            "Equal" or "Less" or "Greater" or "LessOrEqual" or "GreaterOrEqual" or "Not" or "And" or "Or" or "Xor"
                or "IsNaN" or "IsInf" or "RegexFullMatch" => DataType.Bool,
            "Dropout" when index == 1 => DataType.Bool,
            "ConstantOfShape" => node.FindAttribute("value")?.Tensor?.DataType ?? DataType.Float,
            "RandomNormal" or "RandomUniform" => (DataType)node.GetInt("dtype", (long)DataType.Float),
            "RandomNormalLike" or "RandomUniformLike" or "EyeLike" or "Bernoulli" =>
                node.FindAttribute("dtype") is { } dtype ? (DataType)dtype.Int : FirstInputType(node),
            "Multinomial" => (DataType)node.GetInt("dtype", (long)DataType.Int32),
            "HannWindow" or "HammingWindow" or "BlackmanWindow" or "MelWeightMatrix" =>
                (DataType)node.GetInt("output_datatype", (long)DataType.Float),
            "TfIdfVectorizer" => DataType.Float,
            "LayerNormalization" when index > 0 => (DataType)node.GetInt("stash_type", (long)DataType.Float),
            "Where" => TypeOf(node.Inputs.ElementAtOrDefault(1)),
            "OneHot" => TypeOf(node.Inputs.ElementAtOrDefault(2)),
            "QuantizeLinear" => TypeOf(node.Inputs.ElementAtOrDefault(2))
                ?? (node.FindAttribute("output_dtype") is { Int: > 0 } q ? (DataType)q.Int : DataType.UInt8),
            "DequantizeLinear" => node.FindAttribute("output_dtype") is { Int: > 0 } d ? (DataType)d.Int : TypeOf(node.Inputs.ElementAtOrDefault(1)),
            "DynamicQuantizeLinear" => index == 1 ? DataType.Float : DataType.UInt8,
            "MatMulInteger" or "ConvInteger" => DataType.Int32,
            "QLinearMatMul" or "QLinearConv" => TypeOf(node.Inputs.ElementAtOrDefault(7)),
            "StringNormalizer" or "StringConcat" or "StringSplit" when index == 0 => DataType.String,
            "StringSplit" => DataType.Int64,
            "ImageDecoder" => DataType.UInt8,
            "If" => SubgraphOutputType(node, "then_branch", index) ?? SubgraphOutputType(node, "else_branch", index),
            "Loop" => SubgraphOutputType(node, "body", index + 1),
            "Scan" => SubgraphOutputType(node, "body", index),
            _ => FirstInputType(node),
        };
    }

    private DataType? SubgraphOutputType(Node node, string attribute, int index) =>
        node.FindAttribute(attribute)?.Graphs.FirstOrDefault() is { } graph && index < graph.Outputs.Count
            ? TypeOf(graph.Outputs[index]) ?? graph.Outputs[index].ElementType
            : null;

    private DataType? FirstInputType(Node node) => node.Inputs.Select(TypeOf).FirstOrDefault(t => t is not null);
}
