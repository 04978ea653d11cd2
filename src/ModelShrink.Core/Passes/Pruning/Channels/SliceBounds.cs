using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Pruning.Channels;

/// <summary>
/// A Slice's starts, ends, axes and steps: from its constant inputs (opset 10 on) or its attributes (before); null
/// where not given or computed. <see cref="ComputedAxes"/> and <see cref="ComputedSteps"/> tell a computed input
/// from an absent one (which means every axis from 0, and steps of 1).
/// </summary>
internal sealed record SliceBounds(long[]? Starts, long[]? Ends, long[]? Axes, long[]? Steps, bool ComputedAxes, bool ComputedSteps)
{
    /// <summary>The bounds of <paramref name="slice"/> as far as they are constants.</summary>
    public static SliceBounds Of(Node slice)
    {
        var attributes = slice.Inputs.Count == 1;
        var axes = attributes ? slice.GetInts("axes")?.ToArray() : ChannelShapes.Integers(slice.Inputs.ElementAtOrDefault(3));
        var steps = attributes ? null : ChannelShapes.Integers(slice.Inputs.ElementAtOrDefault(4));
        return new SliceBounds(
            attributes ? slice.GetInts("starts")?.ToArray() : ChannelShapes.Integers(slice.Inputs.ElementAtOrDefault(1)),
            attributes ? slice.GetInts("ends")?.ToArray() : ChannelShapes.Integers(slice.Inputs.ElementAtOrDefault(2)),
            axes,
            steps,
            axes is null && slice.Inputs.ElementAtOrDefault(3) is not null,
            steps is null && slice.Inputs.ElementAtOrDefault(4) is not null);
    }
}
