namespace ModelShrink.Core.Plans;

/// <summary>The quantization a compression applies to every layer a plan does not name: each mode is a uniform plan (CLI --quantize and the Quantize item metadata, case-insensitive).</summary>
public enum QuantizeMode
{
    /// <summary>No quantization: clean-up only.</summary>
    None,

    /// <summary>int8 weights, activations quantized at run time.</summary>
    Int8,

    /// <summary>int8 weights and activations in QDQ form, activation ranges calibrated on data.</summary>
    Int8Static,

    /// <summary>float16 weights and compute.</summary>
    Fp16,

    /// <summary>int4 weight-only quantization of MatMul weights.</summary>
    Int4,

    /// <summary>Search for the smallest candidate within the budgets.</summary>
    Auto,
}
