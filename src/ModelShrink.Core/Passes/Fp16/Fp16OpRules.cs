using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Passes.Fp16;

/// <summary>What element type a node's float input slot needs after conversion.</summary>
internal enum SlotNeed
{
    /// <summary>The slot takes whatever the value is (Shape, Size, Cast): no Cast needed.</summary>
    Any,

    /// <summary>The slot must read float32.</summary>
    Float,

    /// <summary>The slot must read float16.</summary>
    Half,
}

/// <summary>
/// Per-op facts the conversion needs beyond "every float32 becomes float16": slots whose type the
/// schema fixes to float32 even when the op runs in float16, slots that accept any type, and
/// attributes that carry an element type.
/// </summary>
internal static class Fp16OpRules
{
    /// <summary>Whether the op belongs to the default ONNX domain.</summary>
    public static bool IsOnnxDomain(Node node) => node.Domain is "" or "ai.onnx";

    /// <summary>
    /// Whether the op's schema (at the model's default opset) admits no float16 where it takes
    /// float32, so it stays float32 whatever the block lists say: Range, NonMaxSuppression, Celu and
    /// DynamicQuantizeLinear in every opset, CumSum before opset 14, QuantizeLinear and
    /// DequantizeLinear before opset 19.
    /// </summary>
    public static bool SchemaForbidsFloat16(Node node, long opset) => IsOnnxDomain(node) && node.OpType switch
    {
        "Range" or "NonMaxSuppression" or "Celu" or "DynamicQuantizeLinear" => true,
        "CumSum" => opset < 14,
        "QuantizeLinear" or "DequantizeLinear" => opset < 19,
        _ => false,
    };

    /// <summary>What input <paramref name="slot"/> of a node running in <paramref name="half"/> precision needs.</summary>
    public static SlotNeed InputNeed(Node node, int slot, bool half)
    {
        if (IsOnnxDomain(node))
        {
            switch (node.OpType)
            {
                // Only the shape or the value is read, and Cast (CastLike's input) accepts every
                // type: reading the value as it is avoids a Cast in front (and Cast -> Cast chains).
                case "Shape" or "Size" or "Cast":
                case "CastLike" when slot == 0:
                    return SlotNeed.Any;

                // 'scales' is tensor(float) in every opset, whatever X is.
                case "Resize" when slot == 2:
                case "Upsample" when slot == 1:
                    return SlotNeed.Float;
            }
        }

        return half ? SlotNeed.Half : SlotNeed.Float;
    }

    /// <summary>Whether output <paramref name="slot"/> of a float16 node becomes float16 when it was float32.</summary>
    public static bool OutputFollowsNode(Node node, int slot) => !IsOnnxDomain(node) || node.OpType switch
    {
        // Mean and InvStdDev are of type U (stash_type), float32 whatever X is.
        "LayerNormalization" => slot == 0,

        // These outputs are float32 by schema.
        "TfIdfVectorizer" or "DynamicQuantizeLinear" => false,
        _ => true,
    };

    /// <summary>
    /// Rewrites the attributes of a node that now runs in float16 where they name float32 as an
    /// element type or hold float32 data; returns how many changed.
    /// </summary>
    public static int RetypeAttributes(Node node, Func<Tensor, Tensor> toHalf, bool outputIsFloat)
    {
        if (!IsOnnxDomain(node))
        {
            return 0;
        }

        switch (node.OpType)
        {
            case "Cast":
                return ReplaceTypeAttribute(node, "to", required: true);
            case "RandomNormal" or "RandomUniform" or "SequenceEmpty":
                return ReplaceTypeAttribute(node, "dtype", required: outputIsFloat);
            case "RandomNormalLike" or "RandomUniformLike" or "EyeLike" or "Bernoulli":
                return ReplaceTypeAttribute(node, "dtype", required: false);
            case "HannWindow" or "HammingWindow" or "BlackmanWindow" or "MelWeightMatrix":
                return ReplaceTypeAttribute(node, "output_datatype", required: outputIsFloat);
            case "ConstantOfShape" when outputIsFloat:
                var value = node.FindAttribute("value")?.Tensor ?? Tensor.FromArray("value", [1], [0f]);
                node.SetAttribute(Attribute.FromTensor("value", toHalf(value)));
                return 1;
            default:
                return 0;
        }
    }

    // Float32 -> float16 in an element-type attribute; "required" adds it where float32 is the default.
    private static int ReplaceTypeAttribute(Node node, string name, bool required)
    {
        var attribute = node.FindAttribute(name);
        if (attribute is null ? !required : attribute.Int != (long)DataType.Float)
        {
            return 0;
        }

        node.SetAttribute(Attribute.FromInt(name, (long)DataType.Float16));
        return 1;
    }
}
