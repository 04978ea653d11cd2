namespace ModelShrink.Core.Passes.Pruning.Channels;

/// <summary>Why a layer's channels cannot be removed: a warning code and the reason.</summary>
internal sealed record ChannelBlock(string Code, string Reason);
