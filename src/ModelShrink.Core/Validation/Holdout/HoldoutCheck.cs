using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Validation.Holdout;

/// <summary>
/// Checks a batch against the model's inputs, with one message that says which input, what was
/// expected and what was found (MSH4002), before anything runs.
/// </summary>
public static class HoldoutCheck
{
    /// <summary>Throws MSH4002 when <paramref name="batch"/> does not fit <paramref name="signature"/>.</summary>
    public static void Check(HoldoutBatch batch, ModelSignature signature, string file, string setting)
    {
        foreach (var input in signature.Inputs)
        {
            if (!batch.Inputs.TryGetValue(input.Name, out var tensor))
            {
                throw Mismatch(file, setting, batch, $"has no data for model input '{input.Name}' (it has: {string.Join(", ", batch.Inputs.Keys)})");
            }

            if (input.Type != DataType.Undefined && tensor.DataType != input.Type)
            {
                throw Mismatch(file, setting, batch, $"input '{input.Name}': expected {input.Type.DisplayName()}, found {tensor.DataType.DisplayName()}");
            }

            if (input.Shape is { } shape && !Fits(shape, tensor.Dims))
            {
                throw Mismatch(file, setting, batch, $"input '{input.Name}': expected shape {input.ShapeText}, found [{string.Join(",", tensor.Dims)}]");
            }
        }

        var extra = batch.Inputs.Keys.Where(k => signature.Inputs.All(i => i.Name != k)).ToArray();
        if (extra.Length > 0)
        {
            throw Mismatch(file, setting, batch, $"has data for '{string.Join("', '", extra)}', which the model has no input of that name for (inputs: {string.Join(", ", signature.Inputs.Select(i => i.Name))})");
        }
    }

    private static bool Fits(IReadOnlyList<long?> expected, IReadOnlyList<long> found) =>
        expected.Count == found.Count && expected.Zip(found).All(p => p.First is null || p.First == p.Second);

    private static ModelShrinkException Mismatch(string file, string setting, HoldoutBatch batch, string problem) =>
        ModelShrinkException.Error(ErrorCodes.HoldoutMismatch, $"holdout {batch.Source} {problem}", file, setting);
}
