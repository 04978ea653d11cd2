using ModelShrink.Core.Passes.Pruning.Channels.Attention;
using ModelShrink.Core.Passes.Pruning.Channels.Refit;
using ModelShrink.Core.Passes.Pruning.Channels.Trace;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Pruning.Channels;

/// <summary>
/// Structured pruning (<c>channels</c>): for each selected Conv, Gemm or MatMul layer, in graph
/// order, the output channels of lowest importance to their dependency group (<see cref="ChannelPlan.Importance"/>: the
/// layer's own L2 norms and those of every weight downstream they are cut from; the fraction <see cref="PruneOptions.Sparsity"/>,
/// rounded down, at least one channel kept) are removed from the layer and from everything that
/// reads them (<see cref="ChannelTrace"/>), so the model has fewer parameters and computes less
/// while its inputs and outputs keep their shapes. Layers whose channels cannot be followed safely
/// are left alone and named, one warning per reason code (MSH2404-MSH2407). The Q, K and V projections of a
/// MatMul-based attention block lose whole heads instead, the same heads together (<see cref="AttentionHeads"/>).
/// <para>
/// Counters: layers narrowed (every layer whose weight lost output channels, the depthwise Convs cut with a group
/// included), channels removed, attention heads removed (and per block, which heads), layers left alone, layers kept
/// (first/last), layers skipped (by name), layers below min size, parameters before, parameters after.
/// </para>
/// </summary>
internal sealed class ChannelPruner(PruneOptions options)
{
    /// <summary>Counter: layers reading removed channels whose weights were refit on the data (Reconstruct=Layerwise).</summary>
    public const string LayersRefit = "layers refit";

    /// <summary>Counter: groups whose channels were chosen by their measured effect rather than by weight norms.</summary>
    public const string GroupsChosenOnData = "groups chosen on data";

    /// <summary>Counter: attention heads removed, in all blocks.</summary>
    public const string HeadsRemoved = "attention heads removed";

    /// <summary>The prefix of the per-block counter that names the heads removed: "heads removed at Q, K, V: 1, 3 of 4".</summary>
    public const string HeadsRemovedAt = "heads removed at ";

    public PassResult Run(Model model, PassContext context)
    {
        var selection = LayerSelection.Select(model, options, context, includeGather: false);
        var before = Parameters(model);
        var blocked = new List<(Value Weight, string Code, string Text)>();
        long removed = 0, headsRemoved = 0;
        var narrowed = new HashSet<Value>(); // weights that lost output channels: the members' and the depthwise Convs' cut with them
        var headLists = new Dictionary<string, long>();
        var partners = selection.Groupable.GroupBy(l => l.Node).ToDictionary(g => g.Key, g => g.First());
        var done = new HashSet<Value>();
        var refit = context.Get(SharedPassData.LayerStatistics) is { } statistics ? new ChannelRefit(statistics, context.Cancellation) : null;
        foreach (var target in selection.Targets)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            if (done.Contains(target.Layer.Weight))
            {
                continue; // narrowed already, with the group of a layer before it
            }

            var (plan, block) = AttentionHeads.Plan(target.Layer, node => partners.GetValueOrDefault(node), model.Opsets.Default)
                ?? ChannelTrace.Plan(target.Layer, node => partners.GetValueOrDefault(node), model.Opsets.Default);
            if (block is not null)
            {
                blocked.Add((target.Layer.Weight, block.Code, $"{target.Layer.Name}: {block.Reason}"));
                continue;
            }

            var importance = plan!.Importance();
            var kept = plan.Protected(importance);
            var count = Math.Min(Count(plan.Channels, target.Sparsity, options.ChannelMultiple), plan.Channels - kept.Count);
            var channels = refit is null ? Lowest(importance, count, kept) : refit.Choose(plan, count, kept, () => Lowest(importance, count, kept));
            // The group's members were judged with it, even when its share rounds to nothing, and so were the
            // depthwise Convs the channels pass through (their filters cut along axis 0 with the group): none
            // is then reported as left alone on its own.
            var cut = plan.Members.Select(m => m.Weight).Concat(CutAlongOutputs(plan)).ToArray();
            done.UnionWith(cut);
            if (channels.Count == 0)
            {
                continue;
            }

            plan.Apply(channels);
            refit?.Applied(plan, channels);
            narrowed.UnionWith(cut);
            removed += channels.Count * plan.Width;
            if (plan.Heads)
            {
                headsRemoved += channels.Count;
                headLists[$"{HeadsRemovedAt}{string.Join(", ", plan.Members.Select(m => m.Name))}: {string.Join(", ", channels.Order())} of {plan.Channels + channels.Count}"] = channels.Count;
            }
        }

        // A layer is warned about only when no group took it along, before or after it was tried on its own.
        blocked.RemoveAll(b => done.Contains(b.Weight));
        foreach (var group in blocked.GroupBy(b => b.Code))
        {
            context.Warn(group.Key, $"channels: {group.Count()} layer(s) left alone: {LayerSelection.List(group.Select(b => b.Text))}");
        }

        if (narrowed.Count == 0)
        {
            context.Warn(ModelShrink.Shared.ErrorCodes.PruneNothingPruned,
                $"no layer lost channels ({selection.All.Count} layer(s): {selection.KeptAtEnds} kept at the ends, {selection.SkippedByName} skipped by name, {selection.BelowMinSize} below {options.MinLayerSize} weights, {blocked.Count} left alone)");
        }

        var counters = new Dictionary<string, long>
        {
            [LayersRefit] = refit?.LayersRefit ?? 0,
            [GroupsChosenOnData] = refit?.GroupsChosenOnData ?? 0,
            ["layers narrowed"] = narrowed.Count,
            ["channels removed"] = removed,
            [HeadsRemoved] = headsRemoved,
            ["layers left alone"] = blocked.Count,
            ["layers kept (first/last)"] = selection.KeptAtEnds,
            ["layers skipped (by name)"] = selection.SkippedByName,
            ["layers below min size"] = selection.BelowMinSize,
            ["parameters before"] = before,
            ["parameters after"] = Parameters(model),
        };
        foreach (var (key, count) in headLists)
        {
            counters[key] = count;
        }

        return new PassResult(narrowed.Count > 0, counters);
    }

    // The Conv weights a plan cuts along their output axis besides its producer's: its other members and the
    // depthwise Convs it carries the channels through. Read before the plan is applied, while each slice's
    // input is still the weight its layer was selected with.
    private static IEnumerable<Value> CutAlongOutputs(ChannelPlan plan) =>
        plan.Slices.Where(s => s is { Slot: 1, Axis: 0 } && s.Node.Is("Conv") && s.Node.Inputs[1] is not null).Select(s => s.Node.Inputs[1]!);

    /// <summary>Elements of every weight (initializers and Constant nodes) in every graph.</summary>
    public static long Parameters(Model model) =>
        model.Graph.EnumerateGraphs().SelectMany(g => g.Values).Select(v => v.ConstantTensor?.ElementCount ?? 0).Sum();

    // Channels to remove: the given fraction, rounded down; at least one stays. When the count is a
    // multiple of `multiple` (ONNX Runtime's NCHWc block, 8 channels on AVX2), the channels kept are
    // rounded up to one too: a Conv whose channels are not a multiple runs in plain NCHW, and on
    // ppocr-cls 30% of the channels removed that way left the model no faster (its depthwise Convs
    // took twice as long as before).
    internal static int Count(int channels, double sparsity, int multiple)
    {
        var count = Math.Max(0, Math.Min(channels - 1, (int)Math.Floor(sparsity * channels + 1e-9)));
        if (multiple > 1 && channels % multiple == 0)
        {
            count = channels - ((channels - count + multiple - 1) / multiple * multiple);
        }

        return count;
    }

    // The `count` channels of lowest importance, ties to the later channel; the `kept` ones stay.
    private static IReadOnlyCollection<int> Lowest(double[] importance, int count, IReadOnlySet<int> kept) =>
        Enumerable.Range(0, importance.Length).Where(c => !kept.Contains(c)).OrderBy(c => importance[c]).ThenByDescending(c => c).Take(count).ToArray();
}
