using ModelShrink.Core.Compression;
using ModelShrink.Core.Plans;
using ModelShrink.Core.Providers;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Cli.Commands;

/// <summary>
/// <c>compress --providers</c>: the variants the build would place for the same providers, written
/// into the run's staging folder beside the main model so they are published with it or not at
/// all: a float16 file for CUDA and DirectML when the main model is quantized (held to the accuracy
/// budgets only, as in the build) and NAME.runtime.json listing them.
/// </summary>
internal static class ProviderVariants
{
    public static JobResult Write(string source, StagingFolder staging, string modelFile, JobResult main, JobSettings settings,
        IReadOnlyList<ExecutionProvider> providers, IProgress<string>? progress)
    {
        var name = Path.GetFileNameWithoutExtension(modelFile);
        var mode = main.Chosen ?? settings.Compression.Quantize;
        var files = VariantPlanner.Files(name, mode, providers).ToList();
        files[0] = files[0] with { File = modelFile };
        var diagnostics = new List<ModelShrink.Onnx.Diagnostics.Diagnostic>(main.Diagnostics);
        var failed = false;
        foreach (var file in files.Skip(1))
        {
            var variant = settings.WithoutSizeBudgets() with { Compression = settings.Compression with { Quantize = file.Mode, Plan = null } };
            var job = ModelShrink.Core.Search.CompressionRun.Run(source, staging.PathOf(file.File), variant, $"{source} ({file.File} variant)", progress: progress);
            diagnostics.AddRange(job.Diagnostics);
            failed |= job.Failed;
        }

        if (!failed)
        {
            VariantPlanner.Plan(name, files, providers).Write(staging.PathOf(RuntimeConfigWriter.FileName(name)));
        }

        // A variant that broke a budget fails the run through its error diagnostics: nothing is published.
        return main with { Diagnostics = diagnostics };
    }
}
