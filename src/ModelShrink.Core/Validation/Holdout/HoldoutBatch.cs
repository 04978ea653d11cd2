using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Validation.Holdout;

/// <summary>
/// One batch of holdout samples: a tensor per model input (first axis = samples), the labels of
/// those samples when known, and expected outputs when the data set carries them.
/// </summary>
/// <param name="Inputs">Input tensors by model input name.</param>
/// <param name="Labels">Class labels, one per sample (or per sample and position), or null.</param>
/// <param name="Source">Where the batch came from, for messages (a folder or file and index).</param>
public sealed record HoldoutBatch(IReadOnlyDictionary<string, Tensor> Inputs, int[]? Labels, string Source)
{
    /// <summary>The number of samples: the first dimension of the first input (1 for a scalar input).</summary>
    public int SampleCount => Inputs.Values.First().Dims is { Count: > 0 } dims ? checked((int)dims[0]) : 1;
}

/// <summary>A holdout data set read lazily, batch by batch, so memory does not grow with its size.</summary>
public interface IHoldoutSource
{
    /// <summary>What was opened, for reports ("3 test_data_set folders in Models/holdout").</summary>
    string Description { get; }

    /// <summary>The batches, in order; each is read when enumerated.</summary>
    IEnumerable<HoldoutBatch> Batches();

    /// <summary>How many batches <see cref="Batches"/> yields, when known without reading the data (for progress).</summary>
    int? BatchCount => null;
}
