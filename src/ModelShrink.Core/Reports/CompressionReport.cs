namespace ModelShrink.Core.Reports;

// The report's data model: what one run produced, as plain data. Serialized by ReportJson
// (camelCase, properties in declaration order); every field is documented in docs/report-schema.md.
// Adding a field is a compatible change; renaming, removing or changing the meaning of one
// raises CompressionReport.CurrentSchemaVersion.

/// <summary>Everything one compression run produced and found, for <c>report.json</c> and <c>report.html</c>.</summary>
/// <param name="SchemaVersion">The version of this format (<see cref="CurrentSchemaVersion"/>).</param>
/// <param name="CreatedUtc">When the report was made, ISO 8601 UTC.</param>
/// <param name="Model">The source model, as the user named it (CLI argument or item Include).</param>
/// <param name="OriginalBytes">The source model's size on disk (file plus external data).</param>
/// <param name="Output">Where the chosen candidate was written, or null when nothing was written.</param>
/// <param name="Verdict">"passed" when a candidate was chosen within the budgets, else "failed".</param>
/// <param name="Chosen">The name of the chosen candidate, or null when none passed.</param>
/// <param name="Budgets">The limits every candidate was checked against.</param>
/// <param name="Holdout">The holdout data and headline metric, or null without holdout data.</param>
/// <param name="Candidates">Every candidate tried, in the order tried.</param>
/// <param name="SensitivityMethod">What the sensitivity rows measure (e.g. "kept-float", "quantized-alone"), or null when there are none.</param>
/// <param name="Sensitivity">Per-layer sensitivity rows; empty when no sensitivity search ran.</param>
/// <param name="Diagnostics">Every warning and error of the run.</param>
/// <param name="Environment">The engine and machine that made the report.</param>
public sealed record CompressionReport(
    int SchemaVersion,
    string CreatedUtc,
    string Model,
    long OriginalBytes,
    string? Output,
    string Verdict,
    string? Chosen,
    ReportBudgets Budgets,
    ReportHoldout? Holdout,
    IReadOnlyList<ReportCandidate> Candidates,
    string? SensitivityMethod,
    IReadOnlyList<SensitivityRow> Sensitivity,
    IReadOnlyList<ReportDiagnostic> Diagnostics,
    ReportEnvironment Environment)
{
    /// <summary>
    /// The run in one sentence, from its candidates and budgets: what was chosen and why the others
    /// were not, what a plain run did and that its budgets held, or which candidate came closest when
    /// nothing was written; null in a report not made from a run (see docs/report-schema.md).
    /// </summary>
    public string? Summary { get; init; }

    /// <summary>A failed run: the candidate that came closest, how far it missed each budget, and what to try; null when a candidate passed.</summary>
    public Budgets.Shortfall? Shortfall { get; init; }

    /// <summary>Quantize=Auto: one sentence on why it chose what it chose; null otherwise.</summary>
    public string? Reason { get; init; }

    /// <summary>Quantize=Auto: the chosen plan's layers per operator type and precision; empty otherwise.</summary>
    public IReadOnlyList<Plans.PlanTableRow> Plan { get; init; } = [];

    /// <summary>The provider the candidates above were validated and timed on ("CPUExecutionProvider").</summary>
    public string ValidatedOn { get; init; } = "CPUExecutionProvider";

    /// <summary>GPU validation: the CUDA variant's candidates, validated and timed on the GPU; empty when none ran there.</summary>
    public IReadOnlyList<ReportGpuCandidate> Gpu { get; init; } = [];

    /// <summary>GPU validation: why the CUDA variant is what it is (chosen on the GPU, or why validation stayed on the CPU); null without a GPU variant.</summary>
    public string? GpuReason { get; init; }

    /// <summary>The schema version this engine writes.</summary>
    public const int CurrentSchemaVersion = 1;

    /// <summary>The verdict when a candidate was chosen.</summary>
    public const string Passed = "passed";

    /// <summary>The verdict when no candidate was within its budgets.</summary>
    public const string Failed = "failed";

    /// <summary>The chosen candidate, or null.</summary>
    public ReportCandidate? ChosenCandidate() => Candidates.FirstOrDefault(c => c.Name == Chosen);
}

/// <summary>The limits of the run; null where not set.</summary>
/// <param name="MaxBytes">MaxSize in bytes.</param>
/// <param name="MaxSizeRatio">MaxSizeRatio (fraction of the original).</param>
/// <param name="MaxAccuracyDrop">MaxAccuracyDrop, absolute points of the headline metric.</param>
/// <param name="MinAgreement">MinAgreement (0-1).</param>
/// <param name="MinCosine">MinCosine (0-1).</param>
/// <param name="Severity">"error" (a broken budget fails) or "warning" (it only warns).</param>
public sealed record ReportBudgets(long? MaxBytes, double? MaxSizeRatio, double? MaxAccuracyDrop, double? MinAgreement, double? MinCosine, string Severity);

/// <summary>The holdout data and the headline metric all candidates are scored with.</summary>
/// <param name="Data">What holdout data was read (e.g. "8 test_data_set folder(s) in ...").</param>
/// <param name="Output">The model output scored.</param>
/// <param name="Metric">The headline metric's name (Accuracy, Agreement, TopK, Cosine, MaxAbs, Rmse, Snr).</param>
/// <param name="HigherIsBetter">Whether a larger value of the metric is better.</param>
/// <param name="Samples">Rows scored.</param>
/// <param name="OriginalValue">The original model's value of the metric (its own accuracy; 1 for Agreement/Cosine, 0 for MaxAbs/Rmse), or null for Snr.</param>
/// <param name="Threshold">The worst metric value the accuracy budgets allow, or null when none applies to the headline metric.</param>
public sealed record ReportHoldout(string Data, string Output, string Metric, bool HigherIsBetter, long Samples, double? OriginalValue, double? Threshold);

/// <summary>One candidate the run tried.</summary>
/// <param name="Name">A name unique within the report (e.g. "fp16").</param>
/// <param name="Mode">The quantize mode (None, Fp16, Int8, ...).</param>
/// <param name="Bytes">Its size on disk.</param>
/// <param name="SizeRatio">Bytes over the original's bytes.</param>
/// <param name="Metric">The headline metric's name, or null without holdout data.</param>
/// <param name="MetricValue">Its value for this candidate, or null without holdout data.</param>
/// <param name="Drop">How far it fell from the original's value (positive = worse), or null when undefined (no holdout, Snr).</param>
/// <param name="Metrics">Every metric measured, or null without holdout data.</param>
/// <param name="Passed">Whether the candidate is usable: no error-level diagnostic.</param>
/// <param name="Applied">False when its mode found nothing to change (int4 on a model without MatMul weights), so it is no real candidate.</param>
/// <param name="BrokenBudgets">The budgets it broke (MaxSize, MaxSizeRatio, MaxAccuracyDrop, MinAgreement, MinCosine), error or warning.</param>
/// <param name="ElapsedMs">Time for the whole candidate (compression and validation), milliseconds.</param>
/// <param name="Passes">Each pass that ran, in order.</param>
public sealed record ReportCandidate(
    string Name,
    string Mode,
    long Bytes,
    double SizeRatio,
    string? Metric,
    double? MetricValue,
    double? Drop,
    ReportMetrics? Metrics,
    bool Passed,
    bool Applied,
    IReadOnlyList<string> BrokenBudgets,
    double ElapsedMs,
    IReadOnlyList<ReportPass> Passes)
{
    /// <summary>Its CPU latency over the original's (one thread, interleaved), when a search measured it; else null.</summary>
    public double? LatencyRatio { get; init; }
}

/// <summary>Every metric of one candidate against the original (see MetricValues).</summary>
/// <param name="Samples">Rows scored.</param>
/// <param name="Accuracy">Top-1 accuracy against labels, or null without labels.</param>
/// <param name="OriginalAccuracy">The original's top-1 accuracy, or null without labels.</param>
/// <param name="Agreement">Top-1 agreement with the original, or null without a class axis.</param>
/// <param name="TopK">Top-5 accuracy against labels, or null.</param>
/// <param name="OriginalTopK">The original's top-5 accuracy, or null.</param>
/// <param name="Cosine">Cosine similarity of the outputs.</param>
/// <param name="MaxAbs">Largest absolute difference.</param>
/// <param name="Rmse">Root mean square difference.</param>
/// <param name="Snr">Signal-to-noise ratio in dB ("Infinity" when identical).</param>
public sealed record ReportMetrics(
    long Samples,
    double? Accuracy,
    double? OriginalAccuracy,
    double? Agreement,
    double? TopK,
    double? OriginalTopK,
    double Cosine,
    double MaxAbs,
    double Rmse,
    double Snr);

/// <summary>One pass of a candidate's pipeline.</summary>
/// <param name="Name">The pass name (cleanup, fp16, ...).</param>
/// <param name="Modified">Whether it changed the model.</param>
/// <param name="ElapsedMs">Its time in milliseconds.</param>
/// <param name="Counters">Its named counters, in the pass's order.</param>
public sealed record ReportPass(string Name, bool Modified, double ElapsedMs, IReadOnlyDictionary<string, long> Counters);

/// <summary>
/// How much the headline metric depends on one layer: its value when only this layer is treated
/// differently (kept in float, or quantized alone: see <see cref="CompressionReport.SensitivityMethod"/>).
/// </summary>
/// <param name="Layer">The node (layer) name.</param>
/// <param name="OpType">Its operator type.</param>
/// <param name="Metric">The headline metric's value in that experiment.</param>
/// <param name="Delta">That value minus the reference value of the experiment (sign as measured).</param>
public sealed record SensitivityRow(string Layer, string OpType, double Metric, double Delta);

/// <summary>A coded finding of the run.</summary>
/// <param name="Code">MSH code.</param>
/// <param name="Severity">"error" or "warning".</param>
/// <param name="Message">The one-line message.</param>
/// <param name="Setting">The option or metadata involved, or null.</param>
/// <param name="Candidate">The candidate it is about, or null when it concerns the whole run.</param>
public sealed record ReportDiagnostic(string Code, string Severity, string Message, string? Setting, string? Candidate);

/// <summary>What made the report.</summary>
/// <param name="EngineVersion">ModelShrink's version.</param>
/// <param name="OnnxRuntimeVersion">The ONNX Runtime the engine validates with.</param>
/// <param name="ProcessorCount">Logical processors of the machine.</param>
/// <param name="Os">The operating system.</param>
/// <param name="Runtime">The .NET runtime.</param>
public sealed record ReportEnvironment(string EngineVersion, string OnnxRuntimeVersion, int ProcessorCount, string Os, string Runtime);

/// <summary>One CUDA variant candidate, every figure measured on <see cref="ValidatedOn"/>.</summary>
/// <param name="Mode">Fp16, Int4 or None (float32).</param>
/// <param name="Bytes">Its size on disk.</param>
/// <param name="Chosen">Whether it became the CUDA variant.</param>
/// <param name="Fits">Whether it met every accuracy budget on the GPU.</param>
/// <param name="ValidatedOn">The provider the candidate ran on ("CUDAExecutionProvider"); the original, the reference, ran on the CPU.</param>
/// <param name="Metric">The headline metric, or null without holdout data.</param>
/// <param name="Value">Its value on the GPU, or null without holdout data.</param>
/// <param name="MedianMs">Median latency on the GPU (inputs copied in and outputs out every run).</param>
/// <param name="OriginalMedianMs">The original's median on the same provider, interleaved.</param>
/// <param name="NodesOnGpu">Nodes ONNX Runtime ran on the GPU provider (one profiled run).</param>
/// <param name="NodesOnCpu">Nodes it placed on the CPU instead, by ONNX Runtime's names.</param>
/// <param name="CpuShare">The CPU nodes' share of kernel time (0 to 1).</param>
public sealed record ReportGpuCandidate(string Mode, long Bytes, bool Chosen, bool Fits, string ValidatedOn, string? Metric, double? Value,
    double MedianMs, double OriginalMedianMs, int NodesOnGpu, IReadOnlyList<string> NodesOnCpu, double CpuShare);
