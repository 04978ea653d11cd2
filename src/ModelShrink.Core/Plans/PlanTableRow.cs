namespace ModelShrink.Core.Plans;

/// <summary>How many layers of one operator type get each precision (Intel Neural Compressor's mixed-precision table).</summary>
/// <param name="OpType">The operator type.</param>
/// <param name="Int4">Layers in int4.</param>
/// <param name="Int8">Layers in int8 (per channel, per tensor or static).</param>
/// <param name="Fp16">Layers in float16.</param>
/// <param name="Float">Layers left float32.</param>
public sealed record PlanTableRow(string OpType, int Int4, int Int8, int Fp16, int Float)
{
    /// <summary>How many of the <see cref="Int8"/> layers have one scale per tensor rather than per channel.</summary>
    public int Int8PerTensor { get; init; }
}
