using ModelShrink.Core.Passes.Reconstruction.Layerwise;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Pruning.Channels.Refit;

/// <summary>
/// Channel pruning with the teacher's layer statistics (<c>Reconstruct=Layerwise</c>): a group's channels are
/// chosen by what the layers reading them lose (ThiNet, Luo et al. 2017; He et al. 2017: the channels whose
/// removal the next layers' outputs miss least, once refit), and those layers are refit by least squares on
/// the columns left and their bias (the optimal brain surgeon's update of <see cref="ConsumerFit"/>).
/// Channels go in rounds: each round removes the cheapest share of what is left to remove, then updates the
/// fits, so a channel's cost is measured with the channels already gone compensated for.
/// Layers whose weight no longer matches what was measured (cut by an earlier group through a Concat) keep
/// track of which measured columns they still have; a group with a reader that has no statistics falls back
/// to the weights' norms for the choice, and still refits the readers that have.
/// </summary>
internal sealed class ChannelRefit(LayerwiseReconstruction statistics, CancellationToken cancellation)
{
    // Selection rounds at most: each round re-scores the channels left with the earlier ones compensated.
    private const int Rounds = 16;

    // Readers wider than this keep their weights (H and its inverse are width² doubles each).
    private const int MaxColumns = 4096;

    private readonly Dictionary<Node, Reader> readers = [];

    /// <summary>Layers whose weights (and bias) were refit.</summary>
    public long LayersRefit { get; private set; }

    /// <summary>Groups whose channels were chosen on the data.</summary>
    public long GroupsChosenOnData { get; private set; }

    /// <summary>
    /// The <paramref name="count"/> channels of <paramref name="plan"/> to remove, chosen on the data when every
    /// layer reading them was measured (else by <paramref name="byNorm"/>), with those layers refit for them;
    /// the <paramref name="kept"/> channels stay. Call <see cref="Applied"/> after the plan is applied.
    /// </summary>
    public IReadOnlyCollection<int> Choose(ChannelPlan plan, int count, IReadOnlySet<int> kept, Func<IReadOnlyCollection<int>> byNorm)
    {
        var sites = plan.Slices.Where(s => s.Consumes).GroupBy(s => s.Node).ToList();
        foreach (var site in sites)
        {
            Track(site.Key);
        }

        if (count <= 0)
        {
            return [];
        }

        var fits = new List<(ConsumerFit Fit, ChannelSlice Slice)>();
        var members = plan.Members.Select(m => m.Node).ToHashSet();
        foreach (var site in sites)
        {
            if (site.Count() == 1 && readers.GetValueOrDefault(site.Key) is { Columns.Count: <= MaxColumns } reader
                && ConsumerFit.Create(site.First(), reader.Measured, reader.Columns, mayAddBias: !members.Contains(site.Key), statistics.Options.Dampening, cancellation) is { } fit)
            {
                fits.Add((fit, site.First()));
            }
        }

        IReadOnlyCollection<int> channels;
        if (fits.Count > 0 && fits.Count == sites.Count)
        {
            channels = ChooseOnData(fits, plan.Channels, count, kept);
            GroupsChosenOnData++;
        }
        else
        {
            channels = byNorm();
            foreach (var (fit, slice) in fits)
            {
                fit.Remove(fit.Columns(slice.Mapping.Positions(channels)));
            }
        }

        foreach (var (fit, _) in fits)
        {
            fit.Write();
        }

        LayersRefit += fits.Count;
        return channels;
    }

    /// <summary>Records which measured columns each reader of <paramref name="plan"/> lost with <paramref name="channels"/>.</summary>
    public void Applied(ChannelPlan plan, IReadOnlyCollection<int> channels)
    {
        foreach (var slice in plan.Slices.Where(s => s.Consumes))
        {
            if (readers.GetValueOrDefault(slice.Node) is { } reader)
            {
                var gone = slice.Mapping.Positions(channels).SelectMany(p => Enumerable.Range((int)p * reader.Stride, reader.Stride)).ToHashSet();
                reader.Columns = reader.Columns.Where((_, column) => !gone.Contains(column)).ToList();
            }
        }
    }

    // A reader seen for the first time, with its inputs as measured (its outputs may have lost channels to
    // an earlier group): its columns are the measured ones.
    private void Track(Node node)
    {
        if (readers.ContainsKey(node) || node.Inputs[1] is not { } weight || statistics.Measured(weight.Name) is not { } measured
            || LayerGeometry.Of(node) is not { } geometry || geometry.Columns != measured.Geometry.Columns || geometry.Groups != measured.Geometry.Groups)
        {
            return;
        }

        readers[node] = new Reader(measured, geometry.ChannelStride) { Columns = Enumerable.Range(0, geometry.Columns).ToList() };
    }

    private IReadOnlyCollection<int> ChooseOnData(List<(ConsumerFit Fit, ChannelSlice Slice)> fits, int channels, int count, IReadOnlySet<int> kept)
    {
        var columns = fits.Select(f => Enumerable.Range(0, channels).Select(c => f.Fit.Columns(f.Slice.Mapping.Positions([c]))).ToArray()).ToArray();
        var left = Enumerable.Range(0, channels).Where(c => !kept.Contains(c)).ToList();
        var chosen = new List<int>();
        var rounds = Math.Min(Rounds, count);
        for (var round = 0; round < rounds; round++)
        {
            cancellation.ThrowIfCancellationRequested();
            var take = (count - chosen.Count + (rounds - round) - 1) / (rounds - round);
            var costs = new double[channels];
            Parallel.ForEach(left, c => costs[c] = fits.Select((f, i) => f.Fit.Error(columns[i][c])).Sum());

            // Cheapest first; ties to the later channel, as the norm-based choice.
            var picked = left.OrderBy(c => costs[c]).ThenByDescending(c => c).Take(take).ToArray();
            for (var i = 0; i < fits.Count; i++)
            {
                fits[i].Fit.Remove(picked.SelectMany(c => columns[i][c]).ToArray());
            }

            chosen.AddRange(picked);
            left.RemoveAll(picked.Contains);
        }

        return chosen;
    }

    private sealed record Reader(CapturedLayer Measured, int Stride)
    {
        public List<int> Columns { get; set; } = [];
    }
}
