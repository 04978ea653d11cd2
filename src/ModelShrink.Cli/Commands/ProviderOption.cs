using System.CommandLine;
using ModelShrink.Core.Gpu;
using ModelShrink.Core.Text;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Cli.Commands;

/// <summary>--provider cpu|cuda on validate and bench.</summary>
public static class ProviderOption
{
    /// <summary>A new --provider option; <paramref name="what"/> completes "The execution provider ...".</summary>
    public static Option<string> Create(string what) => new("--provider")
    {
        Description = $"The execution provider {what}: cpu (default) or cuda (needs ONNX Runtime's CUDA build: MODELSHRINK_ORT_NATIVE_DIR naming Microsoft.ML.OnnxRuntime.Gpu.Linux's native folder, a GPU and CUDA 13 / cuDNN 9).",
        DefaultValueFactory = _ => "cpu",
    };

    /// <summary>The provider the command line names (a coded error for anything else).</summary>
    public static RunProvider Read(ParseResult parse, Option<string> option) =>
        EnumNames.TryParse<RunProvider>(parse.GetValue(option)!, out var provider)
            ? provider
            : throw ModelShrinkException.Error(ErrorCodes.InvalidArgument, $"--provider: '{parse.GetValue(option)}' is not one of cpu, cuda", setting: "--provider");
}
