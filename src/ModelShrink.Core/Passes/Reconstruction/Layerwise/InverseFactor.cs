using System.Numerics.Tensors;

namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>
/// The factor GPTQ and SparseGPT walk along: the upper-triangular U with UᵀU = (H + λI)⁻¹, where
/// λ is the dampening share of H's mean diagonal. Row i of U says how the error made in column i is
/// spread over the columns after it, and U[i,i]² is the inverse's diagonal OBS scales by.
/// <para>
/// Rather than invert H and factor the inverse (as the papers' PyTorch code does), H is factored
/// in reverse order: with J the reversal, J·H·J = L·Lᵀ gives H = M·Mᵀ for the upper M = J·L·J, so
/// H⁻¹ = M⁻ᵀ·M⁻¹ and U = M⁻¹ = J·L⁻¹·J: one Cholesky and one triangular inverse (n³/3 multiply-adds
/// in all), in double precision, each inner product a contiguous vectorized dot, the independent
/// rows and columns in parallel.
/// </para>
/// </summary>
internal static class InverseFactor
{
    /// <summary>
    /// U (row-major [n, n], float) for the second moment <paramref name="lower"/> (H's lower triangle,
    /// row-major; not modified), or null when H + λI is not positive definite even with λ raised
    /// tenfold three times. Inputs never seen non-zero (H[i,i] = 0) get H[i,i] = 1 so their columns
    /// round without spreading error (their weight meets only zeros in the data).
    /// </summary>
    public static float[]? Compute(ReadOnlySpan<double> lower, int n, double dampening, CancellationToken cancellation = default)
    {
        double meanDiagonal = 0;
        for (var i = 0; i < n; i++)
        {
            meanDiagonal += lower[i * n + i];
        }

        meanDiagonal = n == 0 ? 0 : meanDiagonal / n;
        if (meanDiagonal <= 0)
        {
            meanDiagonal = 1;
        }

        var reversed = new double[(long)n * n];
        for (var attempt = 0; attempt < 4; attempt++, dampening *= 10)
        {
            // A = J·H·J (lower triangle): A[i, j] = H[n-1-i, n-1-j] = lower[n-1-j, n-1-i] for j <= i.
            for (var i = 0; i < n; i++)
            {
                for (var j = 0; j <= i; j++)
                {
                    reversed[i * n + j] = lower[(n - 1 - j) * n + (n - 1 - i)];
                }

                var d = reversed[i * n + i];
                reversed[i * n + i] = (d == 0 ? 1 : d) + dampening * meanDiagonal;
            }

            if (CholeskyInPlace(reversed, n, cancellation))
            {
                return UpperFromInverse(InvertLower(reversed, n, cancellation), n);
            }
        }

        return null;
    }

    // Crout, column by column: L[j,j] from row j, then every L[i,j] below it independently.
    private static bool CholeskyInPlace(double[] a, int n, CancellationToken cancellation)
    {
        for (var j = 0; j < n; j++)
        {
            cancellation.ThrowIfCancellationRequested();
            var rowJ = a.AsSpan(j * n, j);
            var d = a[j * n + j] - TensorPrimitives.Dot<double>(rowJ, rowJ);
            if (!(d > 0) || !double.IsFinite(d))
            {
                return false;
            }

            var pivot = Math.Sqrt(d);
            a[j * n + j] = pivot;
            var column = j;
            void Below(int i) =>
                a[i * n + column] = (a[i * n + column] - TensorPrimitives.Dot<double>(a.AsSpan(i * n, column), a.AsSpan(column * n, column))) / pivot;
            if ((long)(n - j) * j < 1 << 14)
            {
                for (var i = j + 1; i < n; i++)
                {
                    Below(i);
                }
            }
            else
            {
                Parallel.For(j + 1, n, Below);
            }
        }

        return true;
    }

    // X = L⁻¹ by columns (each an independent forward substitution), kept transposed: row j of the
    // result is column j of X, so both operands of every dot are contiguous.
    private static double[] InvertLower(double[] l, int n, CancellationToken cancellation)
    {
        var xt = new double[(long)n * n];
        Parallel.For(0, n, new ParallelOptions { CancellationToken = cancellation }, j =>
        {
            var row = xt.AsSpan(j * n, n);
            row[j] = 1 / l[j * n + j];
            for (var i = j + 1; i < n; i++)
            {
                row[i] = -TensorPrimitives.Dot<double>(l.AsSpan(i * n + j, i - j), row.Slice(j, i - j)) / l[i * n + i];
            }
        });
        return xt;
    }

    // U[a, b] = X[n-1-a, n-1-b] = Xᵀ[n-1-b, n-1-a] for a <= b.
    private static float[] UpperFromInverse(double[] xt, int n)
    {
        var u = new float[(long)n * n];
        for (var a = 0; a < n; a++)
        {
            for (var b = a; b < n; b++)
            {
                u[a * n + b] = (float)xt[(n - 1 - b) * n + (n - 1 - a)];
            }
        }

        return u;
    }
}
