using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Cleanup;

/// <summary>
/// The clean-up that runs before quantizing: removes unused nodes and initializers, folds Constant
/// nodes into initializers, removes no-op nodes and merges duplicate initializers, repeated until
/// none of them changes anything (one step often enables another: a bypassed Identity leaves a
/// dead node behind, a folded Constant a duplicate).
/// </summary>
public sealed class CleanupPass : IPass
{
    private readonly IReadOnlyList<IPass> steps =
    [
        new RemoveUnusedPass(),
        new FoldConstantNodesPass(),
        new RemoveIdentityPass(),
        new DeduplicateInitializersPass(),
    ];

    /// <inheritdoc />
    public string Name => "cleanup";

    /// <summary>
    /// The clean-up stage for <paramref name="options"/>: this pass, then the opset upgrade and ONNX
    /// Runtime's optimizer when asked for.
    /// </summary>
    public static IReadOnlyList<IPass> Stage(CleanupOptions options)
    {
        var passes = new List<IPass> { new CleanupPass() };
        if (options.TargetOpset is { } opset)
        {
            passes.Add(new UpgradeOpsetPass(opset));
        }

        if (options.UseOrtOptimizer)
        {
            passes.Add(new OrtOptimizerPass());
        }

        return passes;
    }

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        var result = PassPipeline.RunToFixedPoint(model, context, steps);
        var counters = new Dictionary<string, long>
        {
            ["nodes removed"] = 0,
            ["initializers removed"] = 0,
            ["identities removed"] = 0,
            ["constants folded"] = 0,
            ["duplicates merged"] = 0,
        };
        foreach (var (key, count) in result.Counters)
        {
            counters[key] = count;
        }

        return new PassResult(result.Modified, counters);
    }
}
