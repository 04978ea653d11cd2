namespace ModelShrink.Core.Passes.Pruning;

/// <summary>
/// N:M pruning of one weight along its reduction axis. The weight is viewed as
/// <c>[outer, K, inner]</c> (K the reduction axis's length, outer and inner the products of the
/// axes before and after it); each line (outer, inner) runs along K, cut into groups of M
/// consecutive positions <c>[g*M, g*M + M)</c>. In every group the N largest magnitudes stay (ties:
/// the lower position stays) and the rest become zero, so every group has at most N non-zeros.
/// <list type="bullet">
/// <item>Gemm transB = 1, <c>B[N, K]</c>: groups are M consecutive elements of a row (contiguous).</item>
/// <item>Gemm transB = 0 and MatMul, <c>W[..., K, N]</c>: M consecutive rows of one column (stride N).</item>
/// <item>Conv <c>W[O, I, kh, kw]</c>: M consecutive input channels at one (o, kh, kw) (stride kh*kw), the
/// channels-last grouping sparse tensor cores use.</item>
/// <item>Gather table <c>[V, D]</c>: M consecutive elements of the last axis.</item>
/// </list>
/// K must be a multiple of M (callers check).
/// </summary>
internal static class NmSelection
{
    /// <summary>Whether the reduction axis splits into whole groups of <paramref name="m"/>.</summary>
    public static bool Divisible(IReadOnlyList<long> dims, int reductionAxis, int m) => dims[reductionAxis] % m == 0;

    /// <summary>Keeps the <paramref name="n"/> largest of every <paramref name="m"/> along <paramref name="reductionAxis"/>.</summary>
    public static void Prune(WeightBuffer buffer, IReadOnlyList<long> dims, int reductionAxis, int n, int m, CancellationToken cancellation)
    {
        var k = (int)dims[reductionAxis];
        long inner = 1;
        for (var d = reductionAxis + 1; d < dims.Count; d++)
        {
            inner *= dims[d];
        }

        var lines = buffer.Length / k;
        var groups = k / m;
        var stride = (int)inner;
        Parallel.For(0, (lines + 4095) / 4096, new ParallelOptions { CancellationToken = cancellation }, block =>
        {
            Span<uint> keys = stackalloc uint[m];
            var float32 = buffer.IsFloat32;
            var bits = float32 ? buffer.Float32Bits : default;
            var all = buffer.Bits;
            var end = Math.Min(lines, (block + 1) * 4096);
            for (var line = block * 4096; line < end; line++)
            {
                var outer = line / stride;
                var within = line % stride;
                var lineStart = (long)outer * k * stride + within;
                for (var g = 0; g < groups; g++)
                {
                    var groupStart = lineStart + (long)g * m * stride;
                    for (var j = 0; j < m; j++)
                    {
                        keys[j] = all[(int)(groupStart + (long)j * stride)] & 0x7FFF_FFFFu;
                    }

                    for (var j = 0; j < m; j++)
                    {
                        // Rank among the group: larger keys, and equal keys at lower positions, come first.
                        var rank = 0;
                        for (var other = 0; other < m; other++)
                        {
                            rank += keys[other] > keys[j] || (keys[other] == keys[j] && other < j) ? 1 : 0;
                        }

                        if (rank >= n)
                        {
                            var at = (int)(groupStart + (long)j * stride);
                            if (float32)
                            {
                                bits[at] = 0;
                            }
                            else
                            {
                                buffer.Zero(at);
                            }
                        }
                    }
                }
            }
        });
    }
}
