namespace ModelShrink.Core.Plans;

/// <summary>What one weight-bearing node (MatMul, Gemm, Conv, recurrent) is given by a plan.</summary>
public enum LayerPrecision
{
    /// <summary>Left in float32.</summary>
    Float,

    /// <summary>int8 weights with one scale per output channel, activations quantized at run time (the Int8 pass).</summary>
    Int8,

    /// <summary>int8 weights with one scale for the whole weight: a few bytes smaller than <see cref="Int8"/>, and sometimes far less accurate.</summary>
    Int8PerTensor,

    /// <summary>int8 weights and calibrated int8 activations in QDQ form (the Int8Static pass).</summary>
    Int8Static,

    /// <summary>int4 weights in blocks (the Int4 pass: MatMulNBits or blocked DequantizeLinear).</summary>
    Int4,

    /// <summary>float16 weights and compute (the Fp16 pass).</summary>
    Fp16,
}
