using ModelShrink.Shared.Contracts;
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Microsoft.ML.OnnxRuntime;

namespace ModelShrink.Runtime
{
    /// <summary>
    /// A model compressed by ModelShrink.Build, ready to run: the variant chosen for this machine
    /// (the first in the runtime config whose provider is available and starts), its file and its
    /// session options. Why earlier variants were skipped is in <see cref="FallbackReasons"/>.
    /// </summary>
    public sealed class CompressedModel : IDisposable
    {
        private CompressedModel(RuntimeVariantEntry variant, string modelPath, SessionOptions options, IReadOnlyList<string> reasons)
        {
            Variant = variant;
            ModelPath = modelPath;
            SessionOptions = options;
            FallbackReasons = reasons;
        }

        /// <summary>The chosen variant.</summary>
        public RuntimeVariantEntry Variant { get; }

        /// <summary>The chosen provider: CPU, CUDA or DirectML.</summary>
        public string Provider => Variant.Provider;

        /// <summary>The absolute path of the chosen model file.</summary>
        public string ModelPath { get; }

        /// <summary>The session options for the chosen provider (owned by this object).</summary>
        public SessionOptions SessionOptions { get; }

        /// <summary>One line per variant that was skipped, saying why (empty when the first was used).</summary>
        public IReadOnlyList<string> FallbackReasons { get; }

        /// <summary>Loads <c>&lt;model&gt;.runtime.json</c> and chooses a variant with the real ONNX Runtime.</summary>
        public static CompressedModel Load(string runtimeConfigPath) => Load(runtimeConfigPath, new OrtProviderHost());

        /// <summary>Loads a runtime config and chooses a variant using <paramref name="host"/>.</summary>
        public static CompressedModel Load(string runtimeConfigPath, IProviderHost host)
        {
            var config = RuntimeConfigFile.Read(runtimeConfigPath);
            var directory = Path.GetDirectoryName(Path.GetFullPath(runtimeConfigPath)) ?? ".";
            var available = new HashSet<string>(host.AvailableProviders);
            var reasons = new List<string>();
            foreach (var variant in config.Variants)
            {
                var ortName = ProviderNames.OrtName(variant.Provider);
                if (!available.Contains(ortName))
                {
                    reasons.Add($"{variant.Provider}: {ortName} is not in this ONNX Runtime build (reference {ProviderNames.PackageHint(variant.Provider)})");
                    continue;
                }

                var modelPath = Path.Combine(directory, variant.File);
                if (!File.Exists(modelPath))
                {
                    reasons.Add($"{variant.Provider}: model file '{variant.File}' is missing");
                    continue;
                }

                var options = new SessionOptions();
                try
                {
                    SessionOptionsBuilder.Apply(options, variant.SessionOptions);
                    host.Append(options, variant.Provider, DeviceId(variant));
                    return new CompressedModel(variant, modelPath, options, reasons);
                }
                catch (ModelRuntimeException)
                {
                    options.Dispose();
                    throw;
                }
                catch (Exception e)
                {
                    options.Dispose();
                    reasons.Add($"{variant.Provider}: the provider did not start ({e.Message})");
                }
            }

            throw new ModelRuntimeException($"{runtimeConfigPath}: no variant can run here: {string.Join("; ", reasons)}");
        }

        /// <summary>Creates an inference session on the chosen variant.</summary>
        public InferenceSession CreateSession() => new InferenceSession(ModelPath, SessionOptions);

        /// <inheritdoc />
        public void Dispose() => SessionOptions.Dispose();

        private static int DeviceId(RuntimeVariantEntry variant) =>
            variant.ProviderOptions.TryGetValue("DeviceId", out var text) ? int.Parse(text, CultureInfo.InvariantCulture) : 0;
    }
}
