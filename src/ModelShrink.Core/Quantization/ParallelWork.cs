namespace ModelShrink.Core.Quantization;

/// <summary>Runs independent pieces of a tensor's work in parallel when the tensor is big enough to repay the fork.</summary>
internal static class ParallelWork
{
    /// <summary>Below this many elements a tensor is done on the calling thread.</summary>
    public const int Threshold = 1 << 16;

    /// <summary>Runs <paramref name="body"/> for 0..count-1, in parallel when <paramref name="elements"/> is at least <see cref="Threshold"/>.</summary>
    public static void Run(int count, long elements, Action<int> body)
    {
        if (count <= 1 || elements < Threshold)
        {
            for (var i = 0; i < count; i++)
            {
                body(i);
            }
        }
        else
        {
            Parallel.For(0, count, body);
        }
    }
}
