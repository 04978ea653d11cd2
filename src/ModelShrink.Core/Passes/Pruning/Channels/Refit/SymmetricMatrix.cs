using System.Numerics.Tensors;

namespace ModelShrink.Core.Passes.Pruning.Channels.Refit;

/// <summary>Dense symmetric matrices (row-major, both triangles) as the refit needs them.</summary>
internal static class SymmetricMatrix
{
    /// <summary>
    /// UᵀU for the upper-triangular <paramref name="u"/> [n, n] (the factor GPTQ walks along, whose
    /// product is (H + λI)⁻¹), in double: Σ_t U[t, i]·U[t, j] over t ≤ min(i, j), rows in parallel.
    /// </summary>
    public static double[] FromUpperFactor(float[] u, int n)
    {
        var product = new double[(long)n * n];
        var upper = Array.ConvertAll(u, v => (double)v);
        Parallel.For(0, n, i =>
        {
            // Row i: Σ_t U[t, i]·U[t, t..] (U[t, j] is zero for j < t).
            var row = product.AsSpan(i * n, n);
            for (var t = 0; t <= i; t++)
            {
                if (upper[(long)t * n + i] is var uti && uti != 0)
                {
                    TensorPrimitives.MultiplyAdd(upper.AsSpan(t * n + t, n - t), uti, row[t..], row[t..]);
                }
            }
        });
        return product;
    }

    /// <summary>
    /// The inverse of the symmetric positive definite <paramref name="a"/> [n, n] (Cholesky, then the
    /// inverse of the factor), or null when it is not positive definite.
    /// </summary>
    public static double[]? Inverse(double[] a, int n)
    {
        // Lower Cholesky factor L (A = L·Lᵀ).
        var l = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = a[i * n + j] - TensorPrimitives.Dot(l.AsSpan(i * n, j), l.AsSpan(j * n, j));
                if (i == j)
                {
                    if (!(sum > 0))
                    {
                        return null;
                    }

                    l[i * n + i] = Math.Sqrt(sum);
                }
                else
                {
                    l[i * n + j] = sum / l[j * n + j];
                }
            }
        }

        // X = L⁻¹ (lower), then A⁻¹ = Xᵀ·X.
        var x = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            x[i * n + i] = 1 / l[i * n + i];
            for (var j = 0; j < i; j++)
            {
                double sum = 0;
                for (var t = j; t < i; t++)
                {
                    sum += l[i * n + t] * x[t * n + j];
                }

                x[i * n + j] = -sum / l[i * n + i];
            }
        }

        var inverse = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                double sum = 0;
                for (var t = i; t < n; t++)
                {
                    sum += x[t * n + i] * x[t * n + j];
                }

                inverse[i * n + j] = inverse[j * n + i] = sum;
            }
        }

        return inverse;
    }
}
