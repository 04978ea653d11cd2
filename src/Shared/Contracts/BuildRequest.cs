using System.Collections.Generic;
using System.Runtime.Serialization;

// The contract between the MSBuild task and the engine, one source compiled into both: the task
// (netstandard2.0) writes and reads it with DataContractJsonSerializer, the engine with
// System.Text.Json in camelCase; the member names are the same either way.
namespace ModelShrink.Shared.Contracts
{
    /// <summary>
    /// What the MSBuild task asks the engine to do: one entry per &lt;CompressModel&gt; item, every
    /// path absolute, every metadata value as the user wrote it (the engine parses and checks them,
    /// so the task stays free of engine knowledge). Serialized as camelCase JSON; see
    /// docs/request-format.md.
    /// </summary>
    [DataContract]
    public sealed class BuildRequest
    {
        /// <summary>The request format's version; the engine refuses versions it does not know.</summary>
        [DataMember(Name = "version")]
        public int Version { get; set; } = 1;

        /// <summary>The project file, which diagnostics point at.</summary>
        [DataMember(Name = "projectFile")]
        public string ProjectFile { get; set; } = "";

        /// <summary>The Microsoft.ML.OnnxRuntime version the app references, or empty.</summary>
        [DataMember(Name = "onnxRuntimeVersion")]
        public string OnnxRuntimeVersion { get; set; } = "";

        /// <summary>The ONNX Runtime package ids the app references (Microsoft.ML.OnnxRuntime, .Gpu, .DirectML, ...).</summary>
        [DataMember(Name = "onnxRuntimePackages")]
        public List<string> OnnxRuntimePackages { get; set; } = new List<string>();

        /// <summary>
        /// Validate and choose CUDA variants on the GPU when the engine's ONNX Runtime can run CUDA here
        /// (the ModelShrinkGpuValidation property; the task then loads the CUDA build of ONNX Runtime).
        /// </summary>
        [DataMember(Name = "gpuValidation")]
        public bool GpuValidation { get; set; }

        /// <summary>The models to process.</summary>
        [DataMember(Name = "items")]
        public List<BuildRequestItem> Items { get; set; } = new List<BuildRequestItem>();
    }

    /// <summary>One &lt;CompressModel&gt; item.</summary>
    [DataContract]
    public sealed class BuildRequestItem
    {
        /// <summary>The item's Include, as written in the project (for messages).</summary>
        [DataMember(Name = "itemSpec")]
        public string ItemSpec { get; set; } = "";

        /// <summary>The model's absolute path.</summary>
        [DataMember(Name = "source")]
        public string Source { get; set; } = "";

        /// <summary>The folder the item's outputs are written to (absolute; created if missing).</summary>
        [DataMember(Name = "outputDirectory")]
        public string OutputDirectory { get; set; } = "";

        /// <summary>Every metadata value of the item, by name, as written (unknown names are refused).</summary>
        [DataMember(Name = "metadata")]
        public Dictionary<string, string> Metadata { get; set; } = new Dictionary<string, string>();
    }
}
