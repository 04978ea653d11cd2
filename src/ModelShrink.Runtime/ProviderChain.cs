using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Microsoft.ML.OnnxRuntime;

namespace ModelShrink.Runtime
{
    /// <summary>
    /// What the helper needs from ONNX Runtime to choose a provider, behind an interface so the
    /// choice is tested on machines without a GPU.
    /// </summary>
    public interface IProviderHost
    {
        /// <summary>The execution providers this ONNX Runtime build has (e.g. CPUExecutionProvider).</summary>
        IReadOnlyCollection<string> AvailableProviders { get; }

        /// <summary>Appends the provider to <paramref name="options"/>; throws when the provider cannot start.</summary>
        void Append(SessionOptions options, string provider, int deviceId);
    }

    /// <summary>The real ONNX Runtime.</summary>
    public sealed class OrtProviderHost : IProviderHost
    {
        /// <inheritdoc />
        public IReadOnlyCollection<string> AvailableProviders => OrtEnv.Instance().GetAvailableProviders();

        /// <inheritdoc />
        public void Append(SessionOptions options, string provider, int deviceId)
        {
            switch (provider)
            {
                case "CUDA":
                    options.AppendExecutionProvider_CUDA(deviceId);
                    break;
                case "DirectML":
                    options.AppendExecutionProvider_DML(deviceId);
                    break;
                case "CPU":
                    break;
                default:
                    throw new ModelRuntimeException($"unknown provider '{provider}'");
            }
        }
    }

    /// <summary>Maps the provider names of runtime.json to ONNX Runtime's provider names.</summary>
    internal static class ProviderNames
    {
        public static string OrtName(string provider)
        {
            switch (provider)
            {
                case "CPU": return "CPUExecutionProvider";
                case "CUDA": return "CUDAExecutionProvider";
                case "DirectML": return "DmlExecutionProvider";
                default: throw new ModelRuntimeException($"unknown provider '{provider}' (expected CPU, CUDA or DirectML)");
            }
        }

        public static string PackageHint(string provider) =>
            provider == "CUDA" ? "Microsoft.ML.OnnxRuntime.Gpu" : provider == "DirectML" ? "Microsoft.ML.OnnxRuntime.DirectML" : "Microsoft.ML.OnnxRuntime";
    }

    /// <summary>Turns a variant's option strings into <see cref="SessionOptions"/> settings.</summary>
    internal static class SessionOptionsBuilder
    {
        public static void Apply(SessionOptions options, IDictionary<string, string> values)
        {
            foreach (var pair in values)
            {
                switch (pair.Key)
                {
                    case "GraphOptimizationLevel":
                        options.GraphOptimizationLevel = ParseEnum<GraphOptimizationLevel>(pair);
                        break;
                    case "ExecutionMode":
                        options.ExecutionMode = ParseEnum<ExecutionMode>(pair);
                        break;
                    case "EnableMemoryPattern":
                        options.EnableMemoryPattern = bool.Parse(pair.Value);
                        break;
                    case "IntraOpNumThreads":
                        options.IntraOpNumThreads = int.Parse(pair.Value, CultureInfo.InvariantCulture);
                        break;
                    case "InterOpNumThreads":
                        options.InterOpNumThreads = int.Parse(pair.Value, CultureInfo.InvariantCulture);
                        break;
                    default:
                        throw new ModelRuntimeException($"unknown session option '{pair.Key}' in the runtime config");
                }
            }
        }

        private static T ParseEnum<T>(KeyValuePair<string, string> pair) where T : struct =>
            Enum.TryParse<T>(pair.Value, out var value) ? value : throw new ModelRuntimeException($"session option {pair.Key} has an unknown value '{pair.Value}'");
    }
}
