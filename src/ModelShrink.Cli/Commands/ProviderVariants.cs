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
        (JobResult Job, string File)? broken = null;
        foreach (var file in files.Skip(1))
        {
            var variant = settings.WithoutSizeBudgets() with { Compression = settings.Compression with { Quantize = file.Mode, Plan = null } };
            var job = ModelShrink.Core.Search.CompressionRun.Run(source, staging.PathOf(file.File), variant, $"{source} ({file.File} variant)", progress: progress);
            diagnostics.AddRange(job.Diagnostics);
            broken ??= job.Failed ? (job, file.File) : null;
        }

        if (broken is not var (brokenJob, brokenFile))
        {
            VariantPlanner.Plan(name, files, providers).Write(staging.PathOf(RuntimeConfigWriter.FileName(name)));
            return main with { Diagnostics = diagnostics };
        }

        // A variant that broke a budget fails the run through its error diagnostics, and nothing is published:
        // the run's sentence, which spoke of the CPU model alone, says so first, and the shortfall is the variant's.
        var missed = brokenJob.Shortfall?.DescribeMissed() ?? "a budget";
        var summary = $"Wrote nothing: the GPU variant {brokenFile} ({ModelShrink.Core.Search.RunSummary.Facts(brokenJob)}) broke {missed}"
            + (main.Summary is { } cpu ? $"; the CPU model: {cpu}" : "");
        return main with { Diagnostics = diagnostics, Summary = summary, Shortfall = main.Shortfall ?? brokenJob.Shortfall };
    }
}
