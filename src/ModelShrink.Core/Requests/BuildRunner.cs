using ModelShrink.Shared.Contracts;
using ModelShrink.Shared;
using ModelShrink.Core.Plans;
using ModelShrink.Core.Settings;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Gpu;
using ModelShrink.Core.Providers;
using ModelShrink.Core.Reports;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Core.Requests;

/// <summary>
/// Serves a build request: each item is compressed into a staging folder, checked against its
/// budgets, and only then moved into its output folder, so a failed item leaves no output behind.
/// </summary>
public static class BuildRunner
{
    /// <summary>
    /// Runs every item of <paramref name="request"/>; failures become diagnostics, not exceptions.
    /// <paramref name="progress"/>, when given, hears each item's search steps (see <see cref="BuildProgress"/>).
    /// </summary>
    public static BuildResponse Run(BuildRequest request, CancellationToken cancellation = default, IProgress<string>? progress = null)
    {
        if (request.Version != 1)
        {
            throw ModelShrinkException.Error(ErrorCodes.BadRequest,
                $"request version {request.Version} is not supported by this engine (expects 1); the task and engine come from different package versions",
                request.ProjectFile);
        }

        var runtime = AppRuntime.From(request.OnnxRuntimeVersion, request.OnnxRuntimePackages);
        var items = new List<BuildResponseItem>();
        var diagnostics = new List<ResponseDiagnostic>();
        if (runtime.Version is null && request.OnnxRuntimeVersion.Length > 0)
        {
            diagnostics.Add(ToResponse(new Diagnostic(ErrorCodes.OnnxRuntimeVersionUnreadable,
                $"the app's ONNX Runtime version '{request.OnnxRuntimeVersion}' is not a NuGet version; outputs target ONNX Runtime {AppRuntime.EngineVersion}",
                request.ProjectFile, "PackageReference Microsoft.ML.OnnxRuntime", DiagnosticSeverity.Warning), request.ProjectFile));
        }

        foreach (var item in request.Items)
        {
            cancellation.ThrowIfCancellationRequested();
            var itemDiagnostics = new List<Diagnostic>();
            items.Add(RunItem(item, runtime, request.GpuValidation, Path.GetDirectoryName(request.ProjectFile) ?? ".", itemDiagnostics, cancellation,
                progress is null ? null : new BuildProgress(item.ItemSpec, progress)));
            diagnostics.AddRange(itemDiagnostics.Select(d => ToResponse(d, item.ItemSpec)));
        }

        return new BuildResponse { Items = items, Diagnostics = diagnostics };
    }

    private static BuildResponseItem RunItem(BuildRequestItem item, AppRuntime runtime, bool gpuValidation, string projectDirectory, List<Diagnostic> diagnostics, CancellationToken cancellation, IProgress<string>? progress)
    {
        StagingFolder? staging = null;
        try
        {
            var settings = ItemSettings.Parse(item.Metadata, item.Source, item.ItemSpec, projectDirectory);
            diagnostics.AddRange(ProviderWarnings(settings, runtime, item.ItemSpec));
            staging = StagingFolder.Create(item.OutputDirectory, item.ItemSpec, "OutputDirectory");
            var quantize = settings.Job.Compression.Quantize;
            var gpu = GpuValidation.Check(gpuValidation, settings, item.ItemSpec, diagnostics);
            // A CUDA variant measured on the GPU is made below; the loop makes the CPU file (and DirectML's).
            var files = VariantPlanner.Files(settings.OutputName, quantize, gpu.OnGpu ? settings.Providers.Where(p => p != ExecutionProvider.CUDA).ToArray() : settings.Providers);
            var jobs = new List<JobResult>();
            var elapsed = new List<TimeSpan>();
            foreach (var file in files)
            {
                // Size budgets bind the model the item asked for; a GPU float16 variant is as small as
                // float16 gets, so it is measured and reported but held to the accuracy budgets only.
                var variant = (jobs.Count == 0 ? settings.Job : settings.Job.WithoutSizeBudgets()) with
                {
                    Compression = settings.Job.Compression with { Quantize = file.Mode, MaxOpset = runtime.MaxOpset, MatMulNBitsAllowed = runtime.SupportsMatMulNBits },
                };
                var display = jobs.Count == 0 ? item.ItemSpec : $"{item.ItemSpec} ({file.File} variant)";
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                var job = ModelShrink.Core.Search.CompressionRun.Run(item.Source, staging.PathOf(file.File), variant, display, cancellation, progress);
                diagnostics.AddRange(job.Diagnostics);
                jobs.Add(job);
                elapsed.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started));
            }

            Search.GpuChoice? choice = null;
            if (gpu.OnGpu)
            {
                var folder = Directory.CreateDirectory(staging.PathOf(".gpu")).FullName;
                var gpuJob = settings.Job with { Compression = settings.Job.Compression with { MaxOpset = runtime.MaxOpset, MatMulNBitsAllowed = runtime.SupportsMatMulNBits } };
                choice = Search.GpuVariantChoice.Choose(item.Source, folder, gpuJob, item.ItemSpec, cancellation, progress);
                diagnostics.AddRange(choice.Chosen.Result.Diagnostics);
                diagnostics.AddRange(Search.GpuVariantChoice.PlacementWarnings(choice.Chosen, item.ItemSpec));
            }

            var report = WriteReport(item, settings, files[0], jobs[0], elapsed[0], diagnostics, choice, gpu.Reason);
            if (jobs.Any(j => j.Failed) || choice is { Chosen.Fits: false })
            {
                var failed = Failed(item);
                failed.Report = report;
                return failed;
            }

            // Under Auto the CPU file's mode is the search's pick; a GPU file it makes redundant goes.
            var chosen = jobs[0].Chosen ?? quantize;
            var final = VariantPlanner.Files(settings.OutputName, chosen, settings.Providers, choice?.Chosen.Mode);
            foreach (var extra in files.Where(f => final.All(k => k.File != f.File)))
            {
                File.Delete(staging.PathOf(extra.File));
            }

            if (choice is not null)
            {
                // The CUDA file is the chosen candidate, unless the CPU file (or DirectML's) is the same mode.
                foreach (var missing in final.Where(f => !File.Exists(staging.PathOf(f.File)) && f.Mode == choice.Chosen.Mode))
                {
                    File.Move(choice.Chosen.File, staging.PathOf(missing.File));
                }

                Directory.Delete(staging.PathOf(".gpu"), recursive: true);
            }

            files = final;

            // What the app will load must load: nothing is published when ONNX Runtime refuses a file.
            foreach (var file in files)
            {
                LoadCheck.Verify(staging.PathOf(file.File), Path.Combine(item.OutputDirectory, file.File), "OutputDirectory");
            }

            VariantPlanner.Plan(settings.OutputName, files, settings.Providers, choice?.Chosen.Mode)
                .Write(staging.PathOf(RuntimeConfigWriter.FileName(settings.OutputName)));
            var published = Publish(staging, item.OutputDirectory);
            var main = jobs[0];
            var result = main.Compression;
            var metric = main.Validation is { } v ? $", {v.Metric} {v.Value:0.####} (drop {AccuracyBudget.Drop(v):0.####})" : "";
            var pruned = jobs[0].ChosenSparsity is { } sparsity ? $", Prune=auto chose {sparsity:0.0}" : "";
            var gpuText = choice is not null ? $"; {choice.Reason}"
                : files.Count > 1 && jobs.Count > 1 ? $"; {files[1].File} {ByteSize.Format(jobs[1].Compression.CompressedBytes)} for {string.Join(", ", settings.Providers.Where(p => p != ExecutionProvider.CPU))} (validated on the CPU, where ONNX Runtime runs most float16 ops in float32{(gpu.Reason is null ? "" : $"; {gpu.Reason}")})" : "";
            // The figures of the file written (the start scripts and people scan for), then the run's sentence: what was chosen and why.
            var story = main.Summary is { } sentence ? $"; {sentence}" : "";
            // A search names what it wrote as its sentence does ("mixed (2 int4, 3 int8 per-tensor)"), not only runtime.json's precision.
            var written = main.ChosenName ?? VariantPlanner.Precision(chosen);
            var summary = $"{item.ItemSpec}: {ByteSize.Format(result.OriginalBytes)} -> {ByteSize.Format(result.CompressedBytes)} " +
                $"({result.SizeRatio:0.###} of the original), {written}{pruned}{metric}, " +
                $"providers {string.Join(", ", settings.Providers)}{gpuText}{story}";
            return new BuildResponseItem
            {
                ItemSpec = item.ItemSpec,
                Succeeded = true,
                Files = published.ToList(),
                OriginalBytes = result.OriginalBytes,
                CompressedBytes = result.CompressedBytes,
                Metric = main.Validation?.Metric.ToString() ?? "",
                MetricValue = main.Validation?.Value,
                Summary = report is null ? summary : $"{summary}; report {report}",
                Report = report,
            };
        }
        catch (ModelShrinkException e)
        {
            diagnostics.AddRange(e.All);
            return Failed(item);
        }
        finally
        {
            staging?.Dispose();
        }
    }

    // NAME.report.json and NAME.report.html in the item's folder, beside its outputs but never copied
    // to the app (the targets leave *.report.* out). Written whether or not a budget broke; a report
    // that cannot be written is a warning, not a failed item. Returns the HTML page's path, or null.
    private static string? WriteReport(BuildRequestItem item, ItemSettings settings, VariantFile mainFile, JobResult main, TimeSpan elapsed, List<Diagnostic> diagnostics,
        Search.GpuChoice? choice, string? gpuReason)
    {
        var json = Path.Combine(item.OutputDirectory, ReportFiles.BuildName(settings.OutputName, ReportFiles.JsonExtension));
        var html = Path.Combine(item.OutputDirectory, ReportFiles.BuildName(settings.OutputName, ReportFiles.HtmlExtension));
        try
        {
            var report = ReportBuilder.ForJob(item.ItemSpec, settings.Job with { Compression = settings.Job.Compression with { Quantize = mainFile.Mode } },
                main, elapsed, Path.Combine(item.OutputDirectory, mainFile.File), diagnostics.Where(d => !main.Diagnostics.Contains(d)).ToArray())
                with { Gpu = choice is null ? [] : GpuReport.Rows(choice), GpuReason = choice?.Reason ?? gpuReason };
            ReportFiles.Write(report, json, html);
            return html;
        }
        catch (ModelShrinkException e)
        {
            diagnostics.Add(e.Diagnostic with { Severity = DiagnosticSeverity.Warning, Setting = null });
            return null;
        }
    }

    // Moves every staged file into the output folder (each move replaces atomically, never a device or FIFO).
    private static string[] Publish(StagingFolder staging, string outputDirectory)
    {
        // Files of an earlier run that this one no longer makes (a GPU variant dropped from
        // Providers) would otherwise still be copied into the app.
        var fresh = staging.StagedFiles().Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        foreach (var old in Directory.GetFiles(outputDirectory))
        {
            if (!fresh.Contains(Path.GetFileName(old)) && !old.Contains(".report.", StringComparison.Ordinal))
            {
                File.Delete(old);
            }
        }

        var published = new List<string>();
        lock (StagingFolder.PublishLock)
        {
            // External data first, then the models, then runtime.json: nothing appears before what it reads.
            foreach (var file in staging.StagedFiles().OrderBy(PublishOrder).ThenBy(f => f, StringComparer.Ordinal))
            {
                var target = Path.Combine(outputDirectory, Path.GetFileName(file));
                OutputPath.MoveInto(file, target, target, "OutputDirectory");
                published.Add(target);
            }
        }

        return published.Order(StringComparer.Ordinal).ToArray();
    }

    private static int PublishOrder(string file) =>
        file.EndsWith(RuntimeConfigWriter.FileName(""), StringComparison.Ordinal) ? 2 : file.EndsWith(".onnx", StringComparison.Ordinal) ? 1 : 0;

    // A provider the app cannot load would only ever fall back to CPU at run time: say so now.
    private static IEnumerable<Diagnostic> ProviderWarnings(ItemSettings settings, AppRuntime runtime, string file) =>
        settings.Providers
            .Select(p => (Provider: p, Package: runtime.MissingPackageFor(p)))
            .Where(p => p.Package is not null)
            .Select(p => new Diagnostic(ErrorCodes.ProviderPackageMissing,
                $"provider {p.Provider} is requested but the app does not reference {p.Package}; at run time it will fall back to the next provider",
                file, "Providers", DiagnosticSeverity.Warning));

    private static BuildResponseItem Failed(BuildRequestItem item) => new() { ItemSpec = item.ItemSpec, Succeeded = false };

    private static ResponseDiagnostic ToResponse(Diagnostic diagnostic, string itemSpec) => new()
    {
        Code = diagnostic.Code,
        Severity = diagnostic.Severity == DiagnosticSeverity.Error ? "error" : "warning",
        Message = $"{diagnostic.File ?? itemSpec}: {diagnostic.Message}",
        Setting = diagnostic.Setting ?? "",
    };
}
