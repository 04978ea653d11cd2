using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>
/// The factor GPTQ and SparseGPT walk along: the upper-triangular U with UᵀU = (H + λI)⁻¹, where
/// λ is the dampening share of H's mean diagonal. Row i of U says how the error made in column i is
/// spread over the columns after it, and U[i,i]² is the inverse's diagonal OBS scales by.
/// <para>
/// Rather than invert H and factor the inverse (as the papers' PyTorch code does), H is factored
/// in reverse order: with J the reversal, J·H·J = L·Lᵀ gives H = M·Mᵀ for the upper M = J·L·J, so
/// H⁻¹ = M⁻ᵀ·M⁻¹ and U = M⁻¹ = J·L⁻¹·J: one Cholesky and one triangular inverse (n³/3 multiply-adds
/// in all), in double precision.
/// </para>
/// <para>
/// Both go by panels of a few columns (two vectors of doubles): the bulk of either is a product
/// Σ_t M[i, t]·P[t, columns] of rows of L with a panel P kept with its rows one after another, computed
/// for 4 rows of L at once with the panel's 8 columns in registers (6 loads for 8 vector multiply-adds,
/// where a dot per entry loads two values per multiply-add and streams all of L once per column); the
/// few products inside the panel's own columns follow one row at a time. Rows of a Cholesky panel,
/// and the panels of the inverse, run in parallel.
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

    // Left-looking Cholesky by panels of columns [jb, jb + w): each row i >= jb first gets
    // s = Σ_{t<jb} L[i,t]·L[jb+l, t] (the panel's rows transposed into `panel`), then the panel's columns in
    // order, Crout-style: L[i, j] = (A[i, j] - s - Σ_{jb<=t<j} L[i,t]·L[j,t]) / L[j,j].
    private static bool CholeskyInPlace(double[] a, int n, CancellationToken cancellation)
    {
        var width = Width;
        var panel = new double[(long)n * width];
        Span<double> sums = stackalloc double[4 * width];
        for (var jb = 0; jb < n; jb += width)
        {
            cancellation.ThrowIfCancellationRequested();
            var w = Math.Min(width, n - jb);

            // panel[t, l] = L[jb + l, t] for t < jb (zero past the last row).
            Array.Clear(panel, 0, jb * width);
            for (var l = 0; l < w; l++)
            {
                for (var t = 0; t < jb; t++)
                {
                    panel[t * width + l] = a[(jb + l) * n + t];
                }
            }

            // The panel's diagonal block, row by row: its rows need their own earlier columns.
            for (var i = jb; i < jb + w; i++)
            {
                Product(a, n, i, 1, 0, jb, panel, 0, sums);
                for (var j = jb; j <= i; j++)
                {
                    var s = sums[j - jb];
                    for (var t = jb; t < j; t++)
                    {
                        s += a[i * n + t] * a[j * n + t];
                    }

                    if (j < i)
                    {
                        a[i * n + j] = (a[i * n + j] - s) / a[j * n + j];
                        continue;
                    }

                    var d = a[i * n + i] - s;
                    if (!(d > 0) || !double.IsFinite(d))
                    {
                        return false;
                    }

                    a[i * n + i] = Math.Sqrt(d);
                }
            }

            // The rows below it, 4 at a time, independently.
            var below = jb + w;
            var quads = (n - below + 3) / 4;
            var column = jb;
            void Rows(int quad)
            {
                Span<double> s = stackalloc double[4 * width];
                var first = below + quad * 4;
                var count = Math.Min(4, n - first);
                Product(a, n, first, count, 0, column, panel, 0, s);
                for (var r = 0; r < count; r++)
                {
                    var i = first + r;
                    for (var l = 0; l < w; l++)
                    {
                        var j = column + l;
                        var sum = s[r * width + l];
                        for (var t = column; t < j; t++)
                        {
                            sum += a[i * n + t] * a[j * n + t];
                        }

                        a[i * n + j] = (a[i * n + j] - sum) / a[j * n + j];
                    }
                }
            }

            if ((long)(n - below) * jb < 1 << 14)
            {
                for (var quad = 0; quad < quads; quad++)
                {
                    Rows(quad);
                }
            }
            else
            {
                Parallel.For(0, quads, new ParallelOptions { CancellationToken = cancellation }, Rows);
            }
        }

        return true;
    }

    // X = L⁻¹ by panels of columns [jb, jb + w), each independent: X[i, panel] = (δ - Σ_{jb<=t<i} L[i,t]·X[t, panel]) / L[i,i]
    // for i >= jb, 4 rows at a time (the product over t < i, then the 4 rows' own triangle). Panel q is
    // kept as x[q, i, l] = X[i, jb + l], its rows one after another.
    private static double[] InvertLower(double[] l, int n, CancellationToken cancellation)
    {
        var width = Width;
        var panels = (n + width - 1) / width;
        var x = new double[(long)panels * n * width];
        Parallel.For(0, panels, new ParallelOptions { CancellationToken = cancellation }, q =>
        {
            var jb = q * width;
            var offset = q * n * width;
            Span<double> sums = stackalloc double[4 * width];
            for (var first = jb; first < n; first += 4)
            {
                var count = Math.Min(4, n - first);
                Product(l, n, first, count, jb, first, x, offset, sums);
                for (var r = 0; r < count; r++)
                {
                    var i = first + r;
                    var row = x.AsSpan(offset + i * width, width);
                    for (var c = 0; c < width; c++)
                    {
                        var sum = sums[r * width + c];
                        for (var t = first; t < i; t++)
                        {
                            sum += l[i * n + t] * x[offset + t * width + c];
                        }

                        row[c] = ((jb + c == i ? 1 : 0) - sum) / l[i * n + i];
                    }
                }
            }
        });
        return x;
    }

    // U[a, b] = X[n-1-a, n-1-b] for a <= b (X in panels of columns).
    private static float[] UpperFromInverse(double[] x, int n)
    {
        var width = Width;
        var u = new float[(long)n * n];
        for (var a = 0; a < n; a++)
        {
            var i = n - 1 - a;
            for (var b = a; b < n; b++)
            {
                var j = n - 1 - b;
                u[a * n + b] = (float)x[(j / width * n + i) * width + j % width];
            }
        }

        return u;
    }

    // Columns per panel: two vectors of doubles.
    private static int Width => 2 * Vector<double>.Count;

    // sums[r, c] = Σ_{t in [from, to)} m[(first + r)·n + t] · panel[offset + t·width + c] for r < count (<= 4):
    // 4 rows × 2 vectors of sums held in registers while t runs.
    private static void Product(double[] m, int n, int first, int count, int from, int to, double[] panel, int offset, Span<double> sums)
    {
        var lanes = Vector<double>.Count;
        var width = 2 * lanes;
        ref var p = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(panel), offset);
        ref var mRef = ref MemoryMarshal.GetArrayDataReference(m);
        ref var s = ref MemoryMarshal.GetReference(sums);
        if (count == 4)
        {
            ref var m0 = ref Unsafe.Add(ref mRef, first * n);
            ref var m1 = ref Unsafe.Add(ref m0, n);
            ref var m2 = ref Unsafe.Add(ref m1, n);
            ref var m3 = ref Unsafe.Add(ref m2, n);
            Vector<double> a0 = default, b0 = default, a1 = default, b1 = default;
            Vector<double> a2 = default, b2 = default, a3 = default, b3 = default;
            for (var t = from; t < to; t++)
            {
                var x = Vector.LoadUnsafe(ref p, (nuint)(t * width));
                var y = Vector.LoadUnsafe(ref p, (nuint)(t * width + lanes));
                var e0 = new Vector<double>(Unsafe.Add(ref m0, t));
                var e1 = new Vector<double>(Unsafe.Add(ref m1, t));
                var e2 = new Vector<double>(Unsafe.Add(ref m2, t));
                var e3 = new Vector<double>(Unsafe.Add(ref m3, t));
                a0 = Vector.MultiplyAddEstimate(e0, x, a0);
                b0 = Vector.MultiplyAddEstimate(e0, y, b0);
                a1 = Vector.MultiplyAddEstimate(e1, x, a1);
                b1 = Vector.MultiplyAddEstimate(e1, y, b1);
                a2 = Vector.MultiplyAddEstimate(e2, x, a2);
                b2 = Vector.MultiplyAddEstimate(e2, y, b2);
                a3 = Vector.MultiplyAddEstimate(e3, x, a3);
                b3 = Vector.MultiplyAddEstimate(e3, y, b3);
            }

            a0.StoreUnsafe(ref s);
            b0.StoreUnsafe(ref s, (nuint)lanes);
            a1.StoreUnsafe(ref s, (nuint)width);
            b1.StoreUnsafe(ref s, (nuint)(width + lanes));
            a2.StoreUnsafe(ref s, (nuint)(2 * width));
            b2.StoreUnsafe(ref s, (nuint)(2 * width + lanes));
            a3.StoreUnsafe(ref s, (nuint)(3 * width));
            b3.StoreUnsafe(ref s, (nuint)(3 * width + lanes));
            return;
        }

        for (var r = 0; r < count; r++)
        {
            ref var row = ref Unsafe.Add(ref mRef, (first + r) * n);
            Vector<double> a = default, b = default;
            for (var t = from; t < to; t++)
            {
                var e = new Vector<double>(Unsafe.Add(ref row, t));
                a = Vector.MultiplyAddEstimate(e, Vector.LoadUnsafe(ref p, (nuint)(t * width)), a);
                b = Vector.MultiplyAddEstimate(e, Vector.LoadUnsafe(ref p, (nuint)(t * width + lanes)), b);
            }

            a.StoreUnsafe(ref s, (nuint)(r * width));
            b.StoreUnsafe(ref s, (nuint)(r * width + lanes));
        }
    }
}
