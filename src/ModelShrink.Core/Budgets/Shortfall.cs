namespace ModelShrink.Core.Budgets;

/// <summary>One budget a candidate broke, and by how much, in the setting's own unit.</summary>
/// <param name="Setting">The budget setting (MaxSize, MaxSizeRatio, MaxAccuracyDrop, MinAgreement, MinCosine, MaxLatencyRatio), or the setting of another error (Holdout for non-finite outputs).</param>
/// <param name="Limit">The budget's value (bytes for MaxSize), or null for an error that is no budget.</param>
/// <param name="Reached">What the candidate reached in the same unit, or null when it has no finite value.</param>
/// <param name="Over">How far past the limit (always positive: above a Max, below a Min), or null with <paramref name="Reached"/>.</param>
/// <param name="Text">The same in words: "MaxAccuracyDrop by 2.1 pt", "MaxSize by 4.62KB".</param>
public sealed record BudgetMiss(string Setting, double? Limit, double? Reached, double? Over, string Text);

/// <summary>Why a run wrote nothing: the candidate that came closest to its budgets, how far it missed each, and what to try.</summary>
/// <param name="Candidate">The closest candidate's label.</param>
/// <param name="Bytes">Its size on disk.</param>
/// <param name="Missed">Each budget it broke, and by how much.</param>
/// <param name="WaysOut">What to try, cheapest first ("MaxSize=46.32KB lets ... through", "Prune=auto ...", "BudgetSeverity=Warning to place it anyway").</param>
public sealed record Shortfall(string Candidate, long Bytes, IReadOnlyList<BudgetMiss> Missed, IReadOnlyList<string> WaysOut)
{
    /// <summary>The budgets missed in words: "MaxAccuracyDrop by 2.1 pt, MaxSize by 4.62KB".</summary>
    public string DescribeMissed() => string.Join(", ", Missed.Select(m => m.Text));
}
