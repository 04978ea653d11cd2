using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Cleanup;

/// <summary>
/// Raises the model's default-domain (<c>ai.onnx</c>) opset to a target version (e.g. a paddle
/// export's opset 9 to 13, which per-channel quantization needs), rewriting every node, in the
/// main graph and in subgraphs, whose operator changed form or meaning in between (see
/// <see cref="OpsetHistory.Breaking"/>): attributes that became inputs (Clip, Squeeze, Unsqueeze,
/// Reduce*, Split, Slice, Pad, TopK, Dropout), Softmax's axis semantics, BatchNormalization's
/// outputs, Upsample to Resize, Resize-10's implicit coordinate mode. Operators whose changes
/// only widened them need nothing.
/// <para>
/// Every node is checked before anything changes: an operator the upgrade cannot rewrite stops
/// it with MSH2101 naming the operator and both opsets, and the model is left as it was. A model
/// already at or above the target is left alone (MSH2103 warns when it is above); opsets are
/// never lowered. The IR version is raised to the one the target opset needs.
/// </para>
/// </summary>
public sealed class UpgradeOpsetPass(long targetOpset) : IPass
{
    /// <summary>The lowest opset the upgrade reads and writes (ONNX Runtime's own minimum).</summary>
    public const long MinOpset = 7;

    /// <summary>The highest target opset.</summary>
    public const long MaxOpset = OpsetHistory.Newest;

    /// <summary>The target opset.</summary>
    public long TargetOpset => targetOpset;

    /// <inheritdoc />
    public string Name => "upgrade-opset";

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        if (targetOpset is < MinOpset or > MaxOpset)
        {
            throw context.Error(ErrorCodes.OpsetOutOfRange,
                $"target opset {targetOpset} is outside the range the opset upgrade supports ({MinOpset} to {MaxOpset})", "TargetOpset");
        }

        var from = model.Opsets.Default;
        if (from == 0 || from == targetOpset)
        {
            return PassResult.Unchanged;
        }

        if (from > targetOpset)
        {
            context.Warn(ErrorCodes.OpsetNotLowered,
                $"the model is already at opset {from}, above the requested {targetOpset}; it is left at {from}", "TargetOpset");
            return PassResult.Unchanged;
        }

        if (from < MinOpset)
        {
            throw context.Error(ErrorCodes.OpsetOutOfRange,
                $"the model's opset {from} is below {MinOpset}, the oldest the opset upgrade reads", "TargetOpset");
        }

        var upgrade = new UpgradeContext(context, from, targetOpset);
        var plan = new List<(Node Node, int Old, OpUpgrade Rewrite)>();
        foreach (var node in model.Graph.EnumerateNodes())
        {
            if (!GraphEdits.IsDefaultDomain(node))
            {
                continue;
            }

            var (old, rewrite, problem) = Examine(node, upgrade);
            if (problem is not null)
            {
                throw context.Error(ErrorCodes.OpsetUpgradeUnsupported,
                    $"{node.OpType} (node '{node.Name}') cannot be upgraded from opset {from} to {targetOpset}: {problem}", "TargetOpset");
            }

            if (rewrite is not null)
            {
                plan.Add((node, old, rewrite));
            }
        }

        long rewritten = 0;
        foreach (var (node, old, rewrite) in plan)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            if (rewrite.Apply(node, old, upgrade))
            {
                rewritten++;
            }
        }

        OpsetImports.RaiseDefault(model, targetOpset);
        return new PassResult(true, new Dictionary<string, long>
        {
            ["nodes rewritten"] = rewritten,
            ["from opset"] = from,
            ["to opset"] = targetOpset,
        });
    }


    // The definition the node uses now, the rewrite it needs (null: none), or why it cannot be upgraded.
    private static (int Old, OpUpgrade? Rewrite, string? Problem) Examine(Node node, UpgradeContext upgrade)
    {
        var op = node.OpType;
        if (!OpsetHistory.Knows(op))
        {
            return (0, null, $"it is not an ai.onnx operator the upgrade knows (experimental, removed or misspelled)");
        }

        if (OpsetHistory.VersionAt(op, upgrade.From) is not { } old)
        {
            return (0, null, $"{op} does not exist at opset {upgrade.From}");
        }

        var breaking = OpsetHistory.ChangesBetween(op, upgrade.From, upgrade.To)
            .Where(v => OpsetHistory.Breaking.TryGetValue(op, out var versions) && versions.Contains(v))
            .ToArray();
        if (breaking.Length == 0)
        {
            return (old, null, null);
        }

        if (!OpsetUpgrades.Rewrites.TryGetValue(op, out var rewrite))
        {
            var why = OpsetHistory.NoRewrite.GetValueOrDefault(op) ?? "its definition changed and the upgrade has no rewrite for it";
            return (old, null, $"{why} (changed at opset {string.Join(", ", breaking)})");
        }

        return rewrite.Check(node, old, upgrade) is { } problem ? (old, null, problem) : (old, rewrite, null);
    }
}
