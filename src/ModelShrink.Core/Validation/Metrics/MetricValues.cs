namespace ModelShrink.Core.Validation.Metrics;

/// <summary>
/// Every metric for one output over the whole holdout set. Class-based values are null when the
/// output has no class axis; label-based ones are null without labels.
/// </summary>
/// <param name="Samples">Rows scored (samples, or sample-positions for per-position outputs).</param>
/// <param name="Accuracy">Candidate top-1 accuracy against the labels.</param>
/// <param name="OriginalAccuracy">Original top-1 accuracy against the labels.</param>
/// <param name="Agreement">Share of rows where both models pick the same class.</param>
/// <param name="TopK">Candidate top-K accuracy against the labels.</param>
/// <param name="OriginalTopK">Original top-K accuracy against the labels.</param>
/// <param name="Cosine">Cosine similarity of all output values.</param>
/// <param name="MaxAbs">Largest absolute difference.</param>
/// <param name="Rmse">Root mean square difference.</param>
/// <param name="Snr">Signal-to-noise ratio in dB (infinity when identical).</param>
public sealed record MetricValues(
    long Samples,
    double? Accuracy,
    double? OriginalAccuracy,
    double? Agreement,
    double? TopK,
    double? OriginalTopK,
    double Cosine,
    double MaxAbs,
    double Rmse,
    double Snr)
{
    /// <summary>
    /// For a dense probability map (a one-channel [N, 1, ...] output with every value in [0, 1]):
    /// the share of elements on the same side of the threshold in both models; else null.
    /// </summary>
    public double? ElementAgreement { get; init; }

    /// <summary>For a dense probability map: intersection over union of the elements above the threshold (1 when neither has any); else null.</summary>
    public double? Iou { get; init; }

    /// <summary>How many values of the original's output were NaN or infinite (every metric is then meaningless).</summary>
    public long OriginalNonFinite { get; init; }

    /// <summary>How many values of the candidate's output were NaN or infinite.</summary>
    public long CandidateNonFinite { get; init; }

    /// <summary>The number of classes on the output's last axis (0 without a class axis).</summary>
    public int Classes { get; init; }

    /// <summary>How many labelled rows had a label outside the output's classes (0..C-1).</summary>
    public long LabelsOutOfRange { get; init; }

    /// <summary>Whether the scored output is a dense probability map (see <see cref="ElementAgreement"/>).</summary>
    public bool IsDenseMap => ElementAgreement is not null;

    /// <summary>The value of <paramref name="metric"/>, or null when it cannot be computed here.</summary>
    public double? Get(Metric metric) => metric switch
    {
        Metric.Accuracy => Accuracy,
        Metric.Agreement => Agreement,
        Metric.TopK => TopK,
        Metric.Cosine => Cosine,
        Metric.MaxAbs => MaxAbs,
        Metric.Rmse => Rmse,
        Metric.ElementAgreement => ElementAgreement,
        Metric.Iou => Iou,
        _ => Snr,
    };

    /// <summary>The original model's value of a label-based metric (its own score), else null.</summary>
    public double? Baseline(Metric metric) => metric switch
    {
        Metric.Accuracy => OriginalAccuracy,
        Metric.TopK => OriginalTopK,
        _ => null,
    };
}
