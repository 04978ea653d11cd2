using System.Globalization;

namespace ModelShrink.Core.Validation;

/// <summary>
/// Turns batches done into a few progress lines: with a known batch count, one per tenth of the
/// work ("validating: 3/8 batches, 96 samples"); without, at batches 1, 2, 4, 8, ... and at the end.
/// </summary>
internal sealed class BatchProgress(IProgress<string> progress, int? total)
{
    private int batches;
    private long samples;
    private int lastTenth = -1;

    /// <summary>Records one finished batch of <paramref name="sampleCount"/> samples.</summary>
    public void Done(int sampleCount)
    {
        batches++;
        samples += sampleCount;
        if (total is { } n and > 0)
        {
            var tenth = (int)(batches * 10L / n);
            if (tenth != lastTenth || batches == n)
            {
                lastTenth = tenth;
                progress.Report($"validating: {batches}/{n} batches, {Samples()} ({batches * 100L / n}%)");
            }
        }
        else if ((batches & (batches - 1)) == 0)
        {
            progress.Report($"validating: {batches} batches, {Samples()}");
        }
    }

    /// <summary>Reports the end when the count was not known (a known count already reported 100%).</summary>
    public void Finish()
    {
        if (total is not > 0 && (batches & (batches - 1)) != 0)
        {
            progress.Report($"validating: {batches} batches, {Samples()} (done)");
        }
    }

    private string Samples() => samples.ToString(CultureInfo.InvariantCulture) + (samples == 1 ? " sample" : " samples");
}
