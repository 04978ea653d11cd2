namespace ModelShrink.Core.Passes.Pruning.Channels;

/// <summary>
/// Where a producer's output channels sit in a value: along the axis <see cref="FromEnd"/> (counted
/// from the end, -1 is the last), channel c occupies positions
/// <c>[Offset + c*Group, Offset + (c+1)*Group)</c>. A Conv output starts at offset 0, group 1; a
/// Flatten of <c>[N, C, H, W]</c> makes the group H*W; a Concat moves the offset. A Split or Slice along the
/// channel axis keeps a range of them: the offset moves back by the range's start (it may turn negative) and the
/// value holds only the positions in <c>[0, AxisLength)</c>.
/// </summary>
/// <param name="FromEnd">The axis, negative (from the end), so broadcasting keeps it.</param>
/// <param name="Rank">The value's rank, when known.</param>
/// <param name="Offset">Where channel 0 starts along the axis.</param>
/// <param name="Group">Positions per channel.</param>
/// <param name="AxisLength">The axis's whole length, when known.</param>
internal readonly record struct ChannelMapping(int FromEnd, int? Rank, long Offset, long Group, long? AxisLength)
{
    /// <summary>The axis counted from the front, when the rank is known.</summary>
    public int? Axis => Rank is { } rank ? rank + FromEnd : null;

    /// <summary>Whether the channels sit on axis <paramref name="axis"/> (counted from the front) of a value of known rank.</summary>
    public bool IsAxis(int axis) => Axis == axis;

    /// <summary>
    /// The positions along the axis that <paramref name="channels"/> occupy in this value, ascending: those outside
    /// it (cut off by a Split or Slice) are left out.
    /// </summary>
    public long[] Positions(IReadOnlyCollection<int> channels)
    {
        var (offset, group, length) = (Offset, Group, AxisLength);
        return channels.Order().SelectMany(c => Enumerable.Range(0, checked((int)group)).Select(j => offset + c * group + j))
            .Where(p => p >= 0 && (length is null || p < length)).ToArray();
    }

    /// <summary>
    /// The channels (of <paramref name="channels"/>) whose positions fill the range <c>[start, start + length)</c>,
    /// when nothing else is there: removing them all would leave the range empty. Null when the range holds other
    /// positions too, or none of the channels.
    /// </summary>
    public int[]? Filling(long start, long length, int channels)
    {
        var mapping = this;
        var inside = Enumerable.Range(0, channels).Where(c => mapping.Positions([c]).Any(p => p >= start && p < start + length)).ToArray();
        return inside.Length > 0 && Positions(inside).Count(p => p >= start && p < start + length) == length ? inside : null;
    }

    /// <summary>Whether two mappings put the same channels at the same places (rank aside).</summary>
    public bool SamePlaces(ChannelMapping other) =>
        FromEnd == other.FromEnd && Offset == other.Offset && Group == other.Group && AxisLength == other.AxisLength;

    /// <inheritdoc />
    public override string ToString() => $"axis {FromEnd} offset {Offset} group {Group} length {AxisLength?.ToString() ?? "?"}";
}
