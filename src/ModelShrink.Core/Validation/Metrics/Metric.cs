namespace ModelShrink.Core.Validation.Metrics;

/// <summary>How a compressed model is scored against the original (CLI --metric, the Metric metadata).</summary>
public enum Metric
{
    /// <summary>Top-1 accuracy of the candidate against the labels (needs labels).</summary>
    Accuracy,

    /// <summary>Share of samples where the candidate's top-1 class equals the original's.</summary>
    Agreement,

    /// <summary>Share of samples whose label is among the candidate's top K classes (K = 5, or fewer classes).</summary>
    TopK,

    /// <summary>Cosine similarity of the candidate's and the original's outputs (all values together).</summary>
    Cosine,

    /// <summary>Largest absolute difference between the outputs (lower is better).</summary>
    MaxAbs,

    /// <summary>Root mean square of the differences (lower is better).</summary>
    Rmse,

    /// <summary>Signal-to-noise ratio in dB: the original's energy over the difference's (higher is better).</summary>
    Snr,

    /// <summary>Dense probability maps: share of elements on the same side of the threshold in both models.</summary>
    ElementAgreement,

    /// <summary>Dense probability maps: intersection over union of the elements above the threshold.</summary>
    Iou,
}

/// <summary>Facts about each metric.</summary>
public static class Metrics
{
    /// <summary>Whether a larger value is better.</summary>
    public static bool HigherIsBetter(this Metric metric) => metric is not (Metric.MaxAbs or Metric.Rmse);

    /// <summary>Whether the metric reads a class out of the output's last axis.</summary>
    public static bool IsClassification(this Metric metric) => metric is Metric.Accuracy or Metric.Agreement or Metric.TopK;

    /// <summary>Whether the metric is a share shown as a percentage.</summary>
    public static bool IsShare(this Metric metric) => metric.IsClassification() || metric is Metric.ElementAgreement or Metric.Iou;
}
