namespace ModelShrink.Core.Requests;

/// <summary>What the engine reports back to the MSBuild task (camelCase JSON).</summary>
public sealed record BuildResponse
{
    /// <summary>One entry per request item, in request order.</summary>
    public IReadOnlyList<BuildResponseItem> Items { get; init; } = [];

    /// <summary>Every error and warning, with codes; the task turns each into an MSBuild diagnostic.</summary>
    public IReadOnlyList<ResponseDiagnostic> Diagnostics { get; init; } = [];
}

/// <summary>The outcome of one item.</summary>
public sealed record BuildResponseItem
{
    /// <summary>The item's Include.</summary>
    public string ItemSpec { get; init; } = "";

    /// <summary>Whether the item produced its outputs.</summary>
    public bool Succeeded { get; init; }

    /// <summary>The files written (absolute), to copy to the output folder.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>The source model's size on disk.</summary>
    public long OriginalBytes { get; init; }

    /// <summary>The main output model's size on disk.</summary>
    public long CompressedBytes { get; init; }

    /// <summary>The headline metric measured on the holdout data, or empty without holdout data.</summary>
    public string Metric { get; init; } = "";

    /// <summary>Its value for the compressed model.</summary>
    public double? MetricValue { get; init; }

    /// <summary>One line for the build log: size before -> after and what was done.</summary>
    public string Summary { get; init; } = "";

    /// <summary>The item's report page (NAME.report.html, beside NAME.report.json in its intermediate folder), or null when none was written.</summary>
    public string? Report { get; init; }
}

/// <summary>A diagnostic in the response.</summary>
public sealed record ResponseDiagnostic
{
    /// <summary>MSH code.</summary>
    public string Code { get; init; } = "";

    /// <summary>"error" or "warning".</summary>
    public string Severity { get; init; } = "error";

    /// <summary>The one-line message, naming the model.</summary>
    public string Message { get; init; } = "";

    /// <summary>The item metadata or setting involved, if any.</summary>
    public string Setting { get; init; } = "";
}
