using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Pruning.Channels;

/// <summary>
/// A constant input to cut: input <see cref="Slot"/> of <see cref="Node"/>, along its own axis <see cref="Axis"/>;
/// <see cref="Consumes"/> when it is the weight of a layer that reads the channels as its inputs (the next Conv,
/// Gemm or MatMul), whose output a refit can restore.
/// </summary>
internal sealed record ChannelSlice(Node Node, int Slot, int Axis, ChannelMapping Mapping, bool Consumes = false);
