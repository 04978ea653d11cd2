using ModelShrink.Core.Plans;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Search;

/// <summary>
/// The layers of a model a plan can treat one by one: named nodes with float32 constant weights
/// that the int8 pass quantizes (MatMul, Gemm, Conv, LSTM, GRU, RNN), read after the clean-up the
/// job runs first (so weights in Constant nodes count). MatMuls with a 2-D weight can also take int4
/// when the app's ONNX Runtime runs MatMulNBits or the int4 form is QDQ.
/// </summary>
public sealed record LayerInventory(IReadOnlyList<PlanLayer> Layers, long ModelBytes, long FloatWeightBytes)
{
    private const int BlockedOpset = 21;

    /// <summary>Reads the inventory of <paramref name="source"/> under <paramref name="options"/> (its clean-up, int8 operator types, int4 availability).</summary>
    public static LayerInventory Read(string source, CompressionOptions options, CancellationToken cancellation = default)
    {
        var model = ModelReader.Load(source);
        var modelBytes = Compressor.SizeOnDisk(model);
        var floatBefore = Compressor.FloatWeightBytes(model);
        using (var context = new PassContext(source, cancellation))
        {
            new PassPipeline(CleanupPass.Stage(options.Cleanup)).Run(model, context);
        }

        // What every candidate starts from is the cleaned model: weights the clean-up merged or
        // removed (silero-vad: 134 duplicates) are no part of any candidate's size.
        var floatAfter = Compressor.FloatWeightBytes(model);
        modelBytes -= Math.Max(0, floatBefore - floatAfter);

        var int4 = options.MatMulNBitsAllowed || options.Int4.Format == Passes.Int4WeightOnly.Int4Format.Qdq;
        // Conv weights take int4 as codes whose Cast needs opset 21: the app's ONNX Runtime must run it
        // and the model must reach it (by a higher number alone, or by the opset upgrade the int4
        // pass then runs, which the probe at the end tries).
        var int4Conv = options.MaxOpset is null or >= BlockedOpset;
        var opTypes = options.Int8.OpTypes.ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<Value>();
        var layers = new List<PlanLayer>();
        foreach (var node in model.Graph.EnumerateNodes())
        {
            if (node.Name.Length == 0 || node.Domain is not ("" or "ai.onnx") || !opTypes.Contains(node.OpType))
            {
                continue;
            }

            var weights = node.Inputs.Skip(1).OfType<Value>()
                .Where(v => v.ConstantTensor is { DataType: DataType.Float } && !v.IsGraphInput)
                .ToArray();
            if (weights.Length == 0)
            {
                continue;
            }

            var own = weights.Where(seen.Add).Sum(v => v.ConstantTensor!.ElementCount);
            var takesInt4 = node.Inputs.Count > 1 && node.Inputs[1] is { } b && weights.Contains(b) && node.OpType switch
            {
                "MatMul" => int4 && b.ConstantTensor!.Dims.Count == 2,
                // Each output channel's blocks run along C/g·kh·kw; a depthwise 3x3 (9 weights) has too few to share a scale.
                "Conv" => int4Conv && b.ConstantTensor!.Dims is [var m, _, _, _] && m > 0 && b.ConstantTensor.ElementCount / m >= options.Int4.BlockSize,
                _ => false,
            };
            LayerPrecision[] ladder = takesInt4
                ? [LayerPrecision.Int4, LayerPrecision.Int8PerTensor, LayerPrecision.Int8, LayerPrecision.Float]
                : [LayerPrecision.Int8PerTensor, LayerPrecision.Int8, LayerPrecision.Float];
            var dims = weights[0].ConstantTensor!.Dims;
            var channels = dims.Count == 0 ? 1 : node.OpType == "MatMul" ? dims[^1] : dims[0];
            layers.Add(new PlanLayer(node.Name, node.OpType, own, channels, ladder) { PerChannelNoiseRatio = PerChannelNoiseRatio.Of(node) });
        }

        if (layers.Any(l => l.OpType == "Conv" && l.Ladder.Contains(LayerPrecision.Int4)) && !ReachesOpset(model, source, cancellation))
        {
            layers = layers.Select(l => l.OpType == "Conv" ? l with { Ladder = l.Ladder.Where(p => p != LayerPrecision.Int4).ToArray() } : l).ToList();
        }

        return new LayerInventory(layers, modelBytes, floatAfter);
    }

    // Whether the cleaned model (changed here: the inventory's copy is thrown away) upgrades to the int4 Conv form's opset.
    private static bool ReachesOpset(Model model, string source, CancellationToken cancellation)
    {
        if (model.Opsets.Default >= BlockedOpset || Quantization.OpsetRaise.CanRaise(model, BlockedOpset))
        {
            return true;
        }

        try
        {
            using var context = new PassContext(source, cancellation);
            new UpgradeOpsetPass(BlockedOpset).Run(model, context);
            return true;
        }
        catch (ModelShrink.Onnx.Diagnostics.ModelShrinkException)
        {
            return false;
        }
    }

    /// <summary>
    /// Estimated bytes of the whole model under <paramref name="plan"/>: everything but the layers'
    /// weights as it is, each layer's weights at its precision (layers the plan does not name at
    /// <paramref name="fallback"/>).
    /// </summary>
    public double EstimateBytes(IReadOnlyDictionary<string, LayerPrecision> plan, LayerPrecision fallback = LayerPrecision.Float, int int4BlockSize = 32) =>
        ModelBytes - Layers.Sum(l => l.Weights * 4.0) + Layers.Sum(l => l.Bytes(plan.GetValueOrDefault(l.Name, Effective(l, fallback)), int4BlockSize));

    // What a plain mode does to a layer: int4 reaches only the layers that take it; the rest stay float.
    private static LayerPrecision Effective(PlanLayer layer, LayerPrecision precision) =>
        precision == LayerPrecision.Int4 && !layer.Ladder.Contains(LayerPrecision.Int4) ? LayerPrecision.Float : precision;
}
