using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Pruning;

/// <summary>The operator a prunable weight feeds.</summary>
internal enum LayerKind
{
    Conv,
    Gemm,
    MatMul,
    Gather,
}

/// <summary>
/// A weight the pass may prune and the nodes that read it (one, or several of the same kind and
/// layout, e.g. the two branches of an If reading one outer weight). The axes say how the weight is
/// laid out: <see cref="OutputAxis"/> indexes the layer's output channels, <see cref="ReductionAxis"/>
/// runs along the dot products the layer computes.
/// <list type="bullet">
/// <item>Conv <c>W[O, I/g, k...]</c>: output 0, reduction 1 (input channels).</item>
/// <item>Gemm <c>B</c>: transB = 1, <c>[N, K]</c>: output 0, reduction 1; transB = 0, <c>[K, N]</c>: output 1, reduction 0.</item>
/// <item>MatMul <c>W[..., K, N]</c> (second input): output r-1, reduction r-2.</item>
/// <item>Gather table <c>[V, D...]</c> (first input): no output axis; "reduction" is the last axis (N:M groups run along it).</item>
/// </list>
/// </summary>
internal sealed record PrunableLayer(IReadOnlyList<Node> Readers, Value Weight, LayerKind Kind, int OutputAxis, int ReductionAxis)
{
    /// <summary>The first reader.</summary>
    public Node Node => Readers[0];

    /// <summary>The name reports and options use: the reading node's name, else the weight's.</summary>
    public string Name => Node.Name.Length > 0 ? Node.Name : Weight.Name;

    /// <summary>The weight's data as it is now.</summary>
    public Tensor Tensor => Weight.ConstantTensor!;

    /// <summary>Number of weights.</summary>
    public long Size => Tensor.ElementCount;

    /// <summary>Whether any reader carries one of <paramref name="names"/>.</summary>
    public bool IsNamed(IEnumerable<string> names) => names.Any(n => Readers.Any(r => r.Name == n) || Weight.Name == n);
}
