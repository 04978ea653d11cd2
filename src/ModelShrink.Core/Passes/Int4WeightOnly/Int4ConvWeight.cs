using ModelShrink.Core.Quantization;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Passes.Int4WeightOnly;

/// <summary>
/// A Conv weight [M, C/g, kh, kw] in int4, stored as codes [M, blocks, B] with a scale per block of
/// B weights along each output channel's C/g·kh·kw inputs, and rebuilt as float by
/// Cast → (Sub zero point) → Mul scale → Reshape → (Slice the padding) → Reshape. Every node reads
/// only initializers, so ONNX Runtime folds the chain at load and the Conv runs at float speed from
/// a file a sixth of float's size. (A blocked DequantizeLinear, the standard form, is not folded
/// by ONNX Runtime 1.31: it dequantized on every run, measured 1.3x the float Conv's time on a
/// 64x64 3x3 Conv and 2.25x on the digits CNN.) Cast from int4 needs opset 21.
/// </summary>
internal static class Int4ConvWeight
{
    /// <summary>Quantizes <paramref name="values"/> of a Conv weight with <paramref name="outputs"/> rows: blocks along each row.</summary>
    public static BlockedInt4Weight Quantize(ReadOnlySpan<float> values, int outputs, int blockSize, bool symmetric)
    {
        // Quantized as the [C/g·kh·kw, M] transpose, so each output channel's blocks run along its
        // reduction axis as a MatMul's do along K, with BlockQuantizer's tiles.
        var columns = values.Length / outputs;
        var transposed = new float[values.Length];
        for (var r = 0; r < outputs; r++)
        {
            for (var c = 0; c < columns; c++)
            {
                transposed[(long)c * outputs + r] = values[r * columns + c];
            }
        }

        return BlockQuantizer.ForDequantizeLinear(transposed, columns, outputs, blockSize, symmetric);
    }

    /// <summary>Adds the codes, scales and the rebuilding chain before <paramref name="reader"/>; returns the float weight.</summary>
    public static Value Rebuild(Value weight, BlockedInt4Weight q, Node reader)
    {
        var graph = reader.Graph;
        var dims = weight.ConstantTensor!.Dims.ToArray();
        var (outputs, inputs, blocks, blockSize) = (q.N, q.K, q.Blocks, q.BlockSize);
        var (padded, scales, zeros) = q.Transposed(blocks * blockSize);
        var codeValue = graph.AddInitializer(Tensor.FromRawData(graph.UniqueName(weight.Name + "_int4"), q.Signed ? DataType.Int4 : DataType.UInt4,
            [outputs, blocks, blockSize], padded));
        var scaleValue = graph.AddInitializer(Tensor.FromArray<float>(graph.UniqueName(weight.Name + "_scale"), [outputs, blocks, 1], scales));
        var name = weight.Name;
        Value Step(string op, IEnumerable<Value?> args, string suffix, params Attribute[] attributes) =>
            graph.AddNode(op, args, [name + suffix], attributes, "", graph.UniqueNodeName(name + suffix), reader).Outputs[0]!;
        Value Longs(string suffix, params long[] values) =>
            graph.AddInitializer(Tensor.FromArray<long>(graph.UniqueName(name + suffix), [values.Length], values));

        var value = Step("Cast", [codeValue], "_int4_float", Attribute.FromInt("to", (long)DataType.Float));
        if (zeros is not null)
        {
            var zeroValue = graph.AddInitializer(Tensor.FromRawData(graph.UniqueName(weight.Name + "_zero_point"), DataType.UInt4, [outputs, blocks, 1], zeros));
            value = Step("Sub", [value, Step("Cast", [zeroValue], "_zero_point_float", Attribute.FromInt("to", (long)DataType.Float))], "_centered");
        }

        value = Step("Mul", [value, scaleValue], "_scaled");
        value = Step("Reshape", [value, Longs("_rows", outputs, (long)blocks * blockSize)], "_rows");
        if (blocks * blockSize != inputs)
        {
            value = Step("Slice", [value, Longs("_from", 0), Longs("_to", inputs), Longs("_axis", 1)], "_unpadded");
        }

        return Step("Reshape", [value, Longs("_shape", dims)], "_float");
    }
}
