using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Pruning.Channels.Layout;

/// <summary>
/// A Split's parts or a Slice's kept range along the channel axis, as ranges of positions of its input
/// (where <see cref="Mapping"/> puts the channels): when channels go, each range loses the positions they held
/// inside it and starts earlier by those they held before it, and the op is rewritten to the new ranges.
/// </summary>
internal abstract class RangeEdit(Node node, ChannelMapping mapping, IReadOnlyList<(long Start, long Length)> ranges)
{
    /// <summary>The Split or Slice.</summary>
    public Node Node { get; } = node;

    /// <summary>Where the channels sit in the op's input.</summary>
    public ChannelMapping Mapping { get; } = mapping;

    /// <summary>The ranges of input positions, before any channel goes.</summary>
    public IReadOnlyList<(long Start, long Length)> Ranges { get; } = ranges;

    /// <summary>
    /// The channels that fill a whole range, one set per such range: one of each set must stay, else the range
    /// (a Split output, what a Slice keeps) would be empty.
    /// </summary>
    public IEnumerable<int[]> Parts(int channels) =>
        Ranges.Select(r => Mapping.Filling(r.Start, r.Length, channels)).OfType<int[]>();

    /// <summary>Rewrites the op for <paramref name="channels"/> removed.</summary>
    public void Apply(IReadOnlyCollection<int> channels)
    {
        var removed = Mapping.Positions(channels);
        Write(Ranges.Select(r => (r.Start - removed.Count(p => p < r.Start), r.Length - removed.Count(p => p >= r.Start && p < r.Start + r.Length))).ToArray());
    }

    /// <summary>Writes the ranges left into the op.</summary>
    protected abstract void Write(IReadOnlyList<(long Start, long Length)> ranges);
}
