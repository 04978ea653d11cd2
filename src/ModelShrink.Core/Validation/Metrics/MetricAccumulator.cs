namespace ModelShrink.Core.Validation.Metrics;

/// <summary>
/// Accumulates every metric over batches in constant memory. Class metrics read the last axis as
/// the classes, so a [N, C] output scores N rows and a per-position [N, T, C] output scores N*T
/// rows (labels then come per position).
/// </summary>
/// <remarks>
/// A one-channel output of rank 4 or more ([N, 1, H, W]) whose values all lie in [0, 1] is a dense
/// probability map (a detector's text or mask map): its last axis is an image axis, not classes, so it
/// also gets per-element agreement and IoU at <paramref name="threshold"/>.
/// </remarks>
public sealed class MetricAccumulator(int topK = 5, double threshold = 0.5)
{
    private bool denseMap = true;
    private long sameSide;
    private long bothAbove;
    private long eitherAbove;
    private long rows;
    private long values;
    private long candidateCorrect;
    private long originalCorrect;
    private long agreements;
    private long candidateTopK;
    private long originalTopK;
    private bool hasClasses = true;
    private bool hasLabels = true;
    private double dot;
    private double originalEnergy;
    private double candidateEnergy;
    private double errorEnergy;
    private double maxAbs;
    private long originalNonFinite;
    private long candidateNonFinite;
    private long labelsOutOfRange;
    private int classCount;

    /// <summary>Adds one batch of the same output from both models.</summary>
    public void Add(float[] original, float[] candidate, IReadOnlyList<long> shape, int[]? labels)
    {
        if (original.Length != candidate.Length)
        {
            throw new ArgumentException($"output sizes differ: {original.Length} vs {candidate.Length}");
        }

        for (var i = 0; i < original.Length; i++)
        {
            double o = original[i], c = candidate[i], d = o - c;
            dot += o * c;
            originalEnergy += o * o;
            candidateEnergy += c * c;
            errorEnergy += d * d;
            maxAbs = Math.Max(maxAbs, Math.Abs(d));
            originalNonFinite += double.IsFinite(o) ? 0 : 1;
            candidateNonFinite += double.IsFinite(c) ? 0 : 1;
        }

        values += original.Length;
        denseMap &= shape.Count >= 4 && shape[1] == 1;
        if (denseMap)
        {
            for (var i = 0; i < original.Length; i++)
            {
                float o = original[i], c = candidate[i];
                denseMap &= o is >= 0 and <= 1 && c is >= 0 and <= 1;
                bool oAbove = o > threshold, cAbove = c > threshold;
                sameSide += oAbove == cAbove ? 1 : 0;
                bothAbove += oAbove && cAbove ? 1 : 0;
                eitherAbove += oAbove || cAbove ? 1 : 0;
            }
        }

        var classes = shape.Count >= 2 ? (int)shape[^1] : 0;
        hasClasses &= classes >= 2;
        classCount = classes;
        var batchRows = classes >= 2 ? original.Length / classes : original.Length;
        hasLabels &= labels is not null && labels.Length == batchRows;
        rows += batchRows;
        if (classes < 2)
        {
            return;
        }

        var k = Math.Min(topK, classes);
        for (var r = 0; r < batchRows; r++)
        {
            var o = original.AsSpan(r * classes, classes);
            var c = candidate.AsSpan(r * classes, classes);
            var oTop = ArgMax(o);
            var cTop = ArgMax(c);
            agreements += oTop == cTop ? 1 : 0;
            if (labels is not null && labels.Length == batchRows)
            {
                var label = labels[r];
                labelsOutOfRange += (uint)label < (uint)classes ? 0 : 1;
                candidateCorrect += cTop == label ? 1 : 0;
                originalCorrect += oTop == label ? 1 : 0;
                candidateTopK += InTopK(c, label, k) ? 1 : 0;
                originalTopK += InTopK(o, label, k) ? 1 : 0;
            }
        }
    }

    /// <summary>The metrics so far.</summary>
    public MetricValues Result()
    {
        double? Share(long count) => hasClasses && rows > 0 ? count / (double)rows : null;
        double? Labelled(long count) => hasLabels ? Share(count) : null;
        var cosine = originalEnergy == 0 || candidateEnergy == 0
            ? (originalEnergy == candidateEnergy ? 1 : 0)
            : dot / Math.Sqrt(originalEnergy * candidateEnergy);
        return new MetricValues(
            rows,
            Labelled(candidateCorrect),
            Labelled(originalCorrect),
            Share(agreements),
            Labelled(candidateTopK),
            Labelled(originalTopK),
            cosine,
            maxAbs,
            values == 0 ? 0 : Math.Sqrt(errorEnergy / values),
            errorEnergy == 0 ? double.PositiveInfinity : 10 * Math.Log10(originalEnergy / errorEnergy))
        {
            ElementAgreement = denseMap && values > 0 ? sameSide / (double)values : null,
            Iou = denseMap && values > 0 ? (eitherAbove == 0 ? 1 : bothAbove / (double)eitherAbove) : null,
            OriginalNonFinite = originalNonFinite,
            CandidateNonFinite = candidateNonFinite,
            LabelsOutOfRange = hasLabels && hasClasses ? labelsOutOfRange : 0,
            Classes = hasClasses ? classCount : 0,
        };
    }

    // Ties go to the lowest index, as numpy.argmax does.
    private static int ArgMax(ReadOnlySpan<float> scores)
    {
        var best = 0;
        for (var i = 1; i < scores.Length; i++)
        {
            if (scores[i] > scores[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static bool InTopK(ReadOnlySpan<float> scores, int label, int k)
    {
        if ((uint)label >= (uint)scores.Length)
        {
            return false;
        }

        var better = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            if (scores[i] > scores[label] || (scores[i] == scores[label] && i < label))
            {
                better++;
            }
        }

        return better < k;
    }
}
