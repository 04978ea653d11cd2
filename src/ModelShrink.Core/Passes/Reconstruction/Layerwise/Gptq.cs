namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>
/// GPTQ (Frantar et al., 2022): quantize one column at a time onto the quantizer's grid and
/// compensate the rounding error in the columns not yet quantized, so the layer's output on the
/// calibration inputs stays closest to the float layer's. Values at frozen positions (weights a
/// pruning pass already set to zero) stay zero and their error is compensated too.
/// </summary>
internal static class Gptq
{
    /// <summary>Rounds <paramref name="w"/> (row-major [rows, cols]) in place; <paramref name="snap"/> gives the grid value of (row, column, value).</summary>
    public static void Run(float[] w, int rows, int cols, float[] u, Func<int, int, float, float> snap, bool[]? frozen, CancellationToken cancellation) =>
        ColumnSweep.Run(w, rows, cols, u, 0, cols,
            (r, c, values) => frozen is not null && frozen[r * cols + c] ? 0f : snap(r, c, values[c]), cancellation);
}
