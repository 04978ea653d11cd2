using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Reconstruction;

/// <summary>Which teacher-guided reconstruction runs after quantization (CLI --reconstruct, item metadata Reconstruct).</summary>
public enum ReconstructMode
{
    /// <summary>None: the quantized model is written as it is.</summary>
    None,

    /// <summary>Bias correction (Nagel et al., 2019): each quantized or pruned layer's float bias is shifted so its per-channel output mean matches the original's.</summary>
    Bias,

    /// <summary>
    /// Layer-wise reconstruction: pruned weights chosen and compensated with SparseGPT, quantized
    /// weights rounded with GPTQ, both from the second moment of each layer's input on the data;
    /// then bias correction.
    /// </summary>
    Layerwise,
}

/// <summary>
/// The original (teacher) model as it was before quantization: a copy of its bytes taken by
/// <see cref="TeacherSnapshotPass"/> after clean-up, or set directly (tests, callers holding a teacher).
/// </summary>
public sealed class TeacherModel
{
    private byte[]? bytes;
    private string? baseDirectory;

    /// <summary>Whether a copy has been taken.</summary>
    public bool IsSet => bytes is not null;

    /// <summary>Keeps a copy of <paramref name="model"/> as it is now.</summary>
    public void Capture(Model model)
    {
        bytes = ModelWriter.ToBytes(model);
        baseDirectory = model.Path is null ? null : Path.GetDirectoryName(model.Path);
    }

    /// <summary>A fresh, independent IR of the teacher.</summary>
    public Model Load(string modelFile)
    {
        if (bytes is null)
        {
            throw new InvalidOperationException("the teacher model was not captured before quantization");
        }

        using var stream = new MemoryStream(bytes, writable: false);
        return ModelReader.Load(stream, modelFile, baseDirectory);
    }
}

/// <summary>Options of the bias-correction pass.</summary>
/// <param name="CalibrationData">Data to measure output means on (any holdout layout).</param>
public sealed record BiasCorrectionOptions(string CalibrationData)
{
    /// <summary>
    /// Refinement rounds after the paired teacher/student pass: plain runs of the corrected student,
    /// each followed by every layer's remaining shift. 0 (the default): the paired pass measured each
    /// layer behind corrected predecessors already (digits-cnn, digits-transformer: a refinement round
    /// changed the held-out errors by under 1%); the rounds stop early at <see cref="Tolerance"/>.
    /// </summary>
    public int Rounds { get; init; }

    /// <summary>
    /// Refinement stops once the largest per-channel mean error a round measures is at most this share
    /// of the first shift's.
    /// </summary>
    public double Tolerance { get; init; } = 0.02;
}
