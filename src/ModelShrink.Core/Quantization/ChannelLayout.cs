namespace ModelShrink.Core.Quantization;

/// <summary>A tensor seen as [Outer, Channels, Inner] around a channel axis.</summary>
public readonly record struct ChannelLayout(int Outer, int Channels, int Inner)
{
    /// <summary>The layout of <paramref name="dims"/> around <paramref name="axis"/>.</summary>
    public static ChannelLayout Of(IReadOnlyList<long> dims, int axis)
    {
        long outer = 1, inner = 1;
        for (var d = 0; d < axis; d++)
        {
            outer *= dims[d];
        }

        for (var d = axis + 1; d < dims.Count; d++)
        {
            inner *= dims[d];
        }

        return new ChannelLayout(checked((int)outer), checked((int)dims[axis]), checked((int)inner));
    }
}
