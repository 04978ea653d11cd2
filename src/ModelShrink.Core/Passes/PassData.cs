namespace ModelShrink.Core.Passes;

/// <summary>
/// Data one pass of a run hands to later ones (the teacher model, captured layer statistics).
/// Passes declare what they provide, require and may use (<see cref="IPass.Provides"/>,
/// <see cref="IPass.Requires"/>, <see cref="IPass.Uses"/>); <see cref="PassPipeline"/> checks the
/// order when it is built, and <see cref="PassContext"/> hands a pass only what it declared.
/// </summary>
public abstract class PassData(string name)
{
    /// <summary>What the data is, for messages.</summary>
    public string Name { get; } = name;

    /// <inheritdoc/>
    public override string ToString() => Name;
}

/// <summary>Data of type <typeparamref name="T"/> passed between passes.</summary>
public sealed class PassData<T>(string name) : PassData(name)
    where T : class;
