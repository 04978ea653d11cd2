using System.Collections.Generic;
using System.IO;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;

namespace ModelShrink.Runtime
{
    /// <summary>The contents of a <c>&lt;model&gt;.runtime.json</c> written by ModelShrink.Build.</summary>
    [DataContract]
    public sealed class RuntimeConfigFile
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

        /// <summary>Reads a runtime config; a malformed file throws <see cref="ModelRuntimeException"/>.</summary>
        public static RuntimeConfigFile Read(string path)
        {
            if (!File.Exists(path))
            {
                throw new ModelRuntimeException($"{path}: runtime config not found");
            }

            try
            {
                using (var stream = File.OpenRead(path))
                {
                    var serializer = new DataContractJsonSerializer(typeof(RuntimeConfigFile), new DataContractJsonSerializerSettings { UseSimpleDictionaryFormat = true });
                    var config = (RuntimeConfigFile)serializer.ReadObject(stream);
                    if (config.FormatVersion != 1 || config.Variants == null || config.Variants.Count == 0)
                    {
                        throw new ModelRuntimeException($"{path}: runtime config of format {config.FormatVersion} with {config.Variants?.Count ?? 0} variants is not supported (expects format 1 with at least one variant)");
                    }

                    return config;
                }
            }
            catch (SerializationException e)
            {
                throw new ModelRuntimeException($"{path}: not a valid runtime config: {e.Message}", e);
            }
        }
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
