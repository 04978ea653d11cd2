using ModelShrink.Core.Plans;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Fp16;
using ModelShrink.Core.Passes.Int4WeightOnly;
using ModelShrink.Core.Passes.Int8Dynamic;
using ModelShrink.Core.Passes.Int8Static;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Compression;

/// <summary>
/// Realises a mode and its <see cref="LayerPlan"/> as quantize passes: one per precision in use,
/// int4 first (its MatMuls become MatMulNBits, which the 8-bit passes do not touch), then int8,
/// int8 static, fp16 (per-tensor int8 as its own int8 pass before the per-channel one). The mode's own pass takes every layer the plan does not give to another
/// precision; another precision's pass takes exactly the layers the plan names for it.
/// </summary>
public static class PlanPasses
{
    // The order the passes run in.
    private static readonly LayerPrecision[] Order = [LayerPrecision.Int4, LayerPrecision.Int8PerTensor, LayerPrecision.Int8, LayerPrecision.Int8Static, LayerPrecision.Fp16];

    /// <summary>Every precision <paramref name="options"/> gives some layer, the mode's own included (Float when nothing is quantized).</summary>
    public static IReadOnlySet<LayerPrecision> Precisions(CompressionOptions options)
    {
        var used = new HashSet<LayerPrecision>(options.Plan?.Precisions ?? new HashSet<LayerPrecision>());
        if (options.Quantize != QuantizeMode.Auto)
        {
            used.Add(LayerPlan.Of(options.Quantize));
        }

        return used;
    }

    /// <summary>The quantize passes for <paramref name="options"/>, in the order they run.</summary>
    public static IEnumerable<IPass> Create(CompressionOptions options)
    {
        var own = LayerPlan.Of(options.Quantize);
        var plan = options.Plan ?? LayerPlan.Empty;
        // Int8Static and Fp16 rewrite activations around every node they reach, so they can be the
        // mode (with layers kept out) but not be given a few layers inside another mode.
        var foreign = plan.Precisions.Where(p => p is LayerPrecision.Int8Static or LayerPrecision.Fp16 && p != own).ToArray();
        if (foreign.Length > 0 || (own is LayerPrecision.Int8Static or LayerPrecision.Fp16 && plan.Precisions.Any(p => p is LayerPrecision.Int8 or LayerPrecision.Int8PerTensor)))
        {
            throw ModelShrinkException.Error(ErrorCodes.InvalidArgument,
                $"a layer plan cannot mix {string.Join(", ", plan.Precisions.Append(own).Distinct().Where(p => p != LayerPrecision.Float))}: Int8Static and Fp16 are whole-model passes that only keep layers out",
                setting: "Quantize");
        }

        foreach (var precision in Order)
        {
            if (precision == own)
            {
                yield return Pass(options, precision, include: [], exclude: plan.NamedOtherThan(own));
            }
            else if (plan.Named(precision) is { Count: > 0 } named)
            {
                yield return Pass(options, precision, include: named, exclude: []);
            }
        }
    }

    private static IPass Pass(CompressionOptions options, LayerPrecision precision, IReadOnlyList<string> include, IReadOnlyList<string> exclude) => precision switch
    {
        LayerPrecision.Int4 => new Int4WeightOnlyPass(options.Int4 with
        {
            // A plan names its int4 layers; Convs among them take the blocked DequantizeLinear form.
            OpTypes = include.Count > 0 ? ["MatMul", "Conv"] : options.Int4.OpTypes,
            NodesToQuantize = include,
            ExcludeNodes = [.. options.Int4.ExcludeNodes, .. exclude],
        }),
        LayerPrecision.Int8 or LayerPrecision.Int8PerTensor => new Int8DynamicPass(options.Int8 with
        {
            PerChannel = precision == LayerPrecision.Int8 && options.Int8.PerChannel,
            NodesToQuantize = include,
            ExcludeNodes = [.. options.Int8.ExcludeNodes, .. exclude],
        }),
        LayerPrecision.Int8Static => new Int8StaticPass(options.Int8Static with { ExcludeNodes = [.. options.Int8Static.ExcludeNodes, .. exclude] }),
        _ => new Fp16Pass(options.Fp16 with { NodeBlockList = [.. options.Fp16.NodeBlockList, .. exclude] }),
    };
}
