using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Core.Validation.Holdout;

/// <summary>Opens holdout (and calibration) data in any supported layout.</summary>
public static class HoldoutReader
{
    /// <summary>Samples per batch for NumPy data (ONNX test-data folders are one batch each).</summary>
    public const int DefaultBatchSize = 64;

    /// <summary>
    /// Opens <paramref name="path"/>: a folder of test_data_set_N folders (or one), an .npz archive,
    /// an .npy file, a folder of .npy files, or a folder of .npz archives.
    /// </summary>
    public static IHoldoutSource Open(string path, ModelSignature signature, int batchSize = DefaultBatchSize, string setting = "Holdout")
    {
        // A model with a fixed batch dimension takes batches of exactly that size.
        var fixedBatch = signature.Inputs.Select(i => i.Shape is { Count: > 0 } shape ? shape[0] : null).Distinct().ToArray();
        if (fixedBatch is [{ } size] && size > 0)
        {
            batchSize = (int)size;
        }

        var kind = ModelShrink.Onnx.IO.FileKinds.Of(path);
        if (kind is not (ModelShrink.Onnx.IO.FileKind.Regular or ModelShrink.Onnx.IO.FileKind.Folder or ModelShrink.Onnx.IO.FileKind.Missing))
        {
            // Refused before any open: a FIFO with no writer would block the read forever.
            throw ModelShrinkException.Error(ErrorCodes.InputNotRegularFile,
                $"is {ModelShrink.Onnx.IO.FileKinds.Describe(kind)}, not holdout data on disk", path, setting);
        }

        if (kind == ModelShrink.Onnx.IO.FileKind.Regular)
        {
            return path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)
                ? new NumpyHoldoutSource(path, signature, batchSize)
                : throw ModelShrinkException.Error(ErrorCodes.HoldoutUnreadable,
                    "is not holdout data: expected an .npz or .npy file, or a folder of test_data_set_N folders", path, setting);
        }

        if (!Directory.Exists(path))
        {
            throw ModelShrinkException.Error(ErrorCodes.HoldoutUnreadable, "holdout data not found", path, setting);
        }

        if (OnnxTestDataSource.Recognizes(path))
        {
            return new OnnxTestDataSource(path, signature);
        }

        var archives = Directory.GetFiles(path, "*.npz").Order(StringComparer.Ordinal).ToArray();
        if (archives.Length > 0)
        {
            return new ConcatenatedSource(path, archives.Select(a => (IHoldoutSource)new NumpyHoldoutSource(a, signature, batchSize)).ToArray());
        }

        if (Directory.GetFiles(path, "*.npy").Length > 0)
        {
            return new NumpyHoldoutSource(path, signature, batchSize);
        }

        throw ModelShrinkException.Error(ErrorCodes.HoldoutUnreadable,
            "holds no holdout data: expected test_data_set_N folders, .npz archives or .npy files", path, setting);
    }

    private sealed class ConcatenatedSource(string path, IHoldoutSource[] parts) : IHoldoutSource
    {
        public string Description => $"{parts.Length} .npz archive(s) in {path}";

        public IEnumerable<HoldoutBatch> Batches() => parts.SelectMany(p => p.Batches());
    }
}
