using System.Collections.Generic;
using System.Runtime.Serialization;

// <model>.runtime.json, one source compiled into the engine (which writes it, Providers/RuntimeConfigWriter)
// and ModelShrink.Runtime (which adds the reading half of this partial class).
namespace ModelShrink.Shared.Contracts
{
    /// <summary>
    /// The contents of a <c>&lt;model&gt;.runtime.json</c> written by ModelShrink.Build: the variants of
    /// one model in the order the app should try them, each with the file, its precision and the ONNX
    /// Runtime options it needs. Option names are those of Microsoft.ML.OnnxRuntime's C# API
    /// (SessionOptions properties, provider option keys), so ModelShrink.Runtime maps them one to one.
    /// </summary>
    [DataContract]
    public sealed partial class RuntimeConfigFile
    {
        /// <summary>The format version (1).</summary>
        [DataMember(Name = "formatVersion")]
        public int FormatVersion { get; set; }

        /// <summary>The model's base name.</summary>
        [DataMember(Name = "model")]
        public string Model { get; set; } = "";

        /// <summary>The variants in the order to try them.</summary>
        [DataMember(Name = "variants")]
        public List<RuntimeVariantEntry> Variants { get; set; } = new List<RuntimeVariantEntry>();
    }

    /// <summary>One variant of a model: provider, file, precision and the options its session needs.</summary>
    [DataContract]
    public sealed class RuntimeVariantEntry
    {
        /// <summary>CPU, CUDA or DirectML.</summary>
        [DataMember(Name = "provider")]
        public string Provider { get; set; } = "";

        /// <summary>The model file, relative to the runtime config.</summary>
        [DataMember(Name = "file")]
        public string File { get; set; } = "";

        /// <summary>float32, float16, int8 or int4.</summary>
        [DataMember(Name = "precision")]
        public string Precision { get; set; } = "";

        /// <summary>SessionOptions property names and values.</summary>
        [DataMember(Name = "sessionOptions")]
        public Dictionary<string, string> SessionOptions { get; set; } = new Dictionary<string, string>();

        /// <summary>Provider option names and values (DeviceId).</summary>
        [DataMember(Name = "providerOptions")]
        public Dictionary<string, string> ProviderOptions { get; set; } = new Dictionary<string, string>();
    }
}
