using System.Collections.Generic;
using System.Runtime.Serialization;

namespace ModelShrink.Build.Tasks.Protocol
{
    /// <summary>The request file the task writes for the engine (mirrors ModelShrink.Core.Requests.BuildRequest).</summary>
    [DataContract]
    internal sealed class RequestContract
    {
        [DataMember(Name = "version", Order = 0)]
        public int Version { get; set; } = 1;

        [DataMember(Name = "projectFile", Order = 1)]
        public string ProjectFile { get; set; } = "";

        [DataMember(Name = "onnxRuntimeVersion", Order = 2)]
        public string OnnxRuntimeVersion { get; set; } = "";

        [DataMember(Name = "onnxRuntimePackages", Order = 3)]
        public List<string> OnnxRuntimePackages { get; set; } = new List<string>();

        /// <summary>ModelShrinkGpuValidation: validate the CUDA variant on the GPU when the engine can.</summary>
        public bool GpuValidation { get; set; }

        [DataMember(Name = "items", Order = 4)]
        public List<RequestItemContract> Items { get; set; } = new List<RequestItemContract>();
    }

    /// <summary>One item of the request.</summary>
    [DataContract]
    internal sealed class RequestItemContract
    {
        [DataMember(Name = "itemSpec", Order = 0)]
        public string ItemSpec { get; set; } = "";

        [DataMember(Name = "source", Order = 1)]
        public string Source { get; set; } = "";

        [DataMember(Name = "outputDirectory", Order = 2)]
        public string OutputDirectory { get; set; } = "";

        [DataMember(Name = "metadata", Order = 3)]
        public Dictionary<string, string> Metadata { get; set; } = new Dictionary<string, string>();
    }

    /// <summary>The engine's response (mirrors ModelShrink.Core.Requests.BuildResponse).</summary>
    [DataContract]
    internal sealed class ResponseContract
    {
        [DataMember(Name = "items")]
        public List<ResponseItemContract> Items { get; set; } = new List<ResponseItemContract>();

        [DataMember(Name = "diagnostics")]
        public List<ResponseDiagnosticContract> Diagnostics { get; set; } = new List<ResponseDiagnosticContract>();
    }

    /// <summary>One item's outcome.</summary>
    [DataContract]
    internal sealed class ResponseItemContract
    {
        [DataMember(Name = "itemSpec")]
        public string ItemSpec { get; set; } = "";

        [DataMember(Name = "succeeded")]
        public bool Succeeded { get; set; }

        [DataMember(Name = "files")]
        public List<string> Files { get; set; } = new List<string>();

        [DataMember(Name = "summary")]
        public string Summary { get; set; } = "";

        [DataMember(Name = "report")]
        public string? Report { get; set; }
    }

    /// <summary>One diagnostic.</summary>
    [DataContract]
    internal sealed class ResponseDiagnosticContract
    {
        [DataMember(Name = "code")]
        public string Code { get; set; } = "";

        [DataMember(Name = "severity")]
        public string Severity { get; set; } = "error";

        [DataMember(Name = "message")]
        public string Message { get; set; } = "";

        [DataMember(Name = "setting")]
        public string Setting { get; set; } = "";
    }
}
