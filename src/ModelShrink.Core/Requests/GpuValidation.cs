using ModelShrink.Core.Gpu;
using ModelShrink.Core.Providers;
using ModelShrink.Core.Settings;
using ModelShrink.Core.Requests;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Requests;

/// <summary>Whether an item's CUDA variant is validated on the GPU, and if not, why (for the summary and the report).</summary>
/// <param name="OnGpu">Whether the CUDA variant is chosen and validated on the GPU.</param>
/// <param name="Reason">Why validation stays on the CPU although GPU validation was asked for; null otherwise.</param>
public sealed record GpuPlan(bool OnGpu, string? Reason);

/// <summary>
/// Decides where an item's CUDA variant is validated: on the GPU when GPU validation is on, the item
/// names CUDA, and the CUDA provider runs here (<see cref="CudaProbe"/>); otherwise on the CPU, with
/// one coded warning saying what is missing (MSH3204-MSH3207) when GPU validation was asked for.
/// </summary>
public static class GpuValidation
{
    /// <summary>The plan for one item, probing the real machine.</summary>
    public static GpuPlan Check(bool requested, ItemSettings settings, string file, List<Diagnostic> diagnostics) =>
        Check(requested, settings, file, diagnostics, () => CudaProbe.Current);

    /// <summary>The plan for one item with <paramref name="probe"/> (tests pass a fake status).</summary>
    public static GpuPlan Check(bool requested, ItemSettings settings, string file, List<Diagnostic> diagnostics, Func<CudaStatus> probe)
    {
        if (!requested || !settings.Providers.Contains(ExecutionProvider.CUDA))
        {
            return new GpuPlan(false, null);
        }

        var status = probe();
        if (status.Failure is { } failure)
        {
            diagnostics.Add(new Diagnostic(failure.Code, $"{failure.Reason}; the CUDA variant is validated on the CPU instead", file, "ModelShrinkGpuValidation", DiagnosticSeverity.Warning));
            return new GpuPlan(false, $"GPU validation was asked for, but {failure.Reason} [{failure.Code}]");
        }

        return new GpuPlan(true, null);
    }
}
