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
        var inner = 1;
        for (var d = reductionAxis + 1; d < dims.Count; d++)
        {
            inner = checked(inner * (int)dims[d]);
        }

        // Work item (outer, group): M rows of `inner` positions each, walked row-wise so every read
        // is sequential (for Gemm transB=0 and MatMul the M rows of a group lie `inner` apart).
        var groups = k / m;
        var items = buffer.Length / (k * inner) * groups;
        var perTask = Math.Max(1, 4096 / inner);
        Parallel.For(0, (items + perTask - 1) / perTask, new ParallelOptions { CancellationToken = cancellation }, task =>
        {
            Span<uint> keys = stackalloc uint[m];
            var float32 = buffer.IsFloat32;
            var bits = float32 ? buffer.Float32Bits : default;
            var all = buffer.Bits;
            var end = Math.Min(items, (task + 1) * perTask);
            for (var item = task * perTask; item < end; item++)
            {
                var outer = item / groups;
                var group = item % groups;
                var groupStart = ((long)outer * k + (long)group * m) * inner;
                for (var within = 0; within < inner; within++)
                {
                    for (var j = 0; j < m; j++)
                    {
                        keys[j] = all[(int)(groupStart + (long)j * inner + within)] & 0x7FFF_FFFFu;
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
                            var at = (int)(groupStart + (long)j * inner + within);
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
