using System.Collections.Generic;
using System.Runtime.Serialization;

// The contract between the MSBuild task and the engine, one source compiled into both: the task
// (netstandard2.0) writes and reads it with DataContractJsonSerializer, the engine with
// System.Text.Json in camelCase; the member names are the same either way.
namespace ModelShrink.Shared.Contracts
{
    /// <summary>What the engine reports back to the MSBuild task (camelCase JSON).</summary>
    [DataContract]
    public sealed class BuildResponse
    {
        /// <summary>One entry per request item, in request order.</summary>
        [DataMember(Name = "items")]
        public List<BuildResponseItem> Items { get; set; } = new List<BuildResponseItem>();

        /// <summary>Every error and warning, with codes; the task turns each into an MSBuild diagnostic.</summary>
        [DataMember(Name = "diagnostics")]
        public List<ResponseDiagnostic> Diagnostics { get; set; } = new List<ResponseDiagnostic>();
    }

    /// <summary>The outcome of one item.</summary>
    [DataContract]
    public sealed class BuildResponseItem
    {
        /// <summary>The item's Include.</summary>
        [DataMember(Name = "itemSpec")]
        public string ItemSpec { get; set; } = "";

        /// <summary>Whether the item produced its outputs.</summary>
        [DataMember(Name = "succeeded")]
        public bool Succeeded { get; set; }

        /// <summary>The files written (absolute), to copy to the output folder.</summary>
        [DataMember(Name = "files")]
        public List<string> Files { get; set; } = new List<string>();

        /// <summary>The source model's size on disk.</summary>
        [DataMember(Name = "originalBytes")]
        public long OriginalBytes { get; set; }

        /// <summary>The main output model's size on disk.</summary>
        [DataMember(Name = "compressedBytes")]
        public long CompressedBytes { get; set; }

        /// <summary>The headline metric measured on the holdout data, or empty without holdout data.</summary>
        [DataMember(Name = "metric")]
        public string Metric { get; set; } = "";

        /// <summary>Its value for the compressed model.</summary>
        [DataMember(Name = "metricValue")]
        public double? MetricValue { get; set; }

        /// <summary>One line for the build log: size before -> after and what was done.</summary>
        [DataMember(Name = "summary")]
        public string Summary { get; set; } = "";

        /// <summary>The item's report page (NAME.report.html, beside NAME.report.json in its intermediate folder), or null when none was written.</summary>
        [DataMember(Name = "report")]
        public string? Report { get; set; }
    }

    /// <summary>A diagnostic in the response.</summary>
    [DataContract]
    public sealed class ResponseDiagnostic
    {
        /// <summary>MSH code.</summary>
        [DataMember(Name = "code")]
        public string Code { get; set; } = "";

        /// <summary>"error" or "warning".</summary>
        [DataMember(Name = "severity")]
        public string Severity { get; set; } = "error";

        /// <summary>The one-line message, naming the model.</summary>
        [DataMember(Name = "message")]
        public string Message { get; set; } = "";

        /// <summary>The item metadata or setting involved, if any.</summary>
        [DataMember(Name = "setting")]
        public string Setting { get; set; } = "";
    }
}
