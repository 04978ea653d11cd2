using ModelShrink.Shared;
using ModelShrink.Core.Plans;

namespace ModelShrink.Core.Budgets;

/// <summary>
/// What another quantize mode would roughly reach, for the "what might fit" part of a broken size
/// budget: the model's float32 weights shrink by the mode's width (16 or 8 bits of 32) and
/// everything else stays. An estimate, and labelled as one. Int4 is left out: it applies to MatMul
/// weights only, so a whole-model estimate would promise too much.
/// </summary>
public static class SizeHints
{
    /// <summary>A hint such as "Quantize=Fp16 would reach about 96KB", or null when no available mode is smaller.</summary>
    public static string? For(long originalBytes, long floatWeightBytes, QuantizeMode current, long? limit)
    {
        // Int8Static would reach Int8's size and needs calibration data: Int8 is the one to name.
        var estimates = new[] { QuantizeMode.None, QuantizeMode.Int8, QuantizeMode.Int4, QuantizeMode.Fp16 }
            .Select(mode => (Mode: mode, Bytes: Estimate(originalBytes, floatWeightBytes, mode)))
            .Where(e => e.Bytes is not null && e.Mode != current && e.Bytes < Estimate(originalBytes, floatWeightBytes, current))
            .OrderBy(e => e.Bytes)
            .ToArray();
        if (estimates.Length == 0)
        {
            return null;
        }

        var fitting = limit is { } max ? estimates.Where(e => e.Bytes <= max).ToArray() : estimates;
        var pick = fitting.Length > 0 ? fitting[^1] : estimates[0];
        return $"Quantize={pick.Mode} would reach about {ByteSize.Format(pick.Bytes!.Value)}";
    }

    private static long? Estimate(long originalBytes, long floatWeightBytes, QuantizeMode mode)
    {
        var rest = originalBytes - floatWeightBytes;
        return mode switch
        {
            QuantizeMode.None => originalBytes,
            QuantizeMode.Fp16 => rest + floatWeightBytes / 2,
            QuantizeMode.Int8 or QuantizeMode.Int8Static => rest + floatWeightBytes / 4,
            _ => null,
        };
    }
}
