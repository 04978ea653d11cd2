using System.IO;
using System.Runtime.Serialization.Json;

namespace ModelShrink.Build.Tasks.Protocol
{
    /// <summary>
    /// JSON through the framework's DataContractJsonSerializer: netstandard2.0 has it built in, so
    /// the task loads no JSON library into MSBuild's process.
    /// </summary>
    internal static class JsonFile
    {
        private static readonly DataContractJsonSerializerSettings Settings = new DataContractJsonSerializerSettings
        {
            UseSimpleDictionaryFormat = true,
        };

        public static void Write<T>(string path, T value)
        {
            using (var stream = File.Create(path))
            {
                new DataContractJsonSerializer(typeof(T), Settings).WriteObject(stream, value);
            }
        }

        public static T Read<T>(string path)
        {
            using (var stream = File.OpenRead(path))
            {
                return (T)new DataContractJsonSerializer(typeof(T), Settings).ReadObject(stream);
            }
        }
    }
}
