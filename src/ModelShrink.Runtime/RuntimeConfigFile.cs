using System.IO;
using System.Runtime.Serialization;
using System.Runtime.Serialization.Json;
using ModelShrink.Runtime;

namespace ModelShrink.Shared.Contracts
{
    /// <summary>The app's half of the runtime config: reading it.</summary>
    public sealed partial class RuntimeConfigFile
    {
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
}
