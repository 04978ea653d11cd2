using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Pruning;

/// <summary>
/// Finds the prunable weights of a model, in every graph: float weights (initializers or Constant
/// nodes) read only as the weight of Conv, Gemm or MatMul (or as the table of a Gather, on request),
/// all readers agreeing on the layout.
/// </summary>
internal static class PrunableLayers
{
    /// <summary>The layers, in node order; weights also listed as graph inputs go to <paramref name="overridable"/> instead.</summary>
    public static IReadOnlyList<PrunableLayer> Find(Model model, bool includeGather, List<Value> overridable)
    {
        var layers = new List<PrunableLayer>();
        var seen = new HashSet<Value>();
        foreach (var node in model.Graph.EnumerateNodes())
        {
            if (Slot(node, includeGather) is not { } slot || slot >= node.Inputs.Count || node.Inputs[slot] is not { } weight
                || !seen.Add(weight) || weight.ConstantTensor is not { } tensor || !IsFloat(tensor.DataType))
            {
                continue;
            }

            if (Layout(node, tensor) is not var (kind, output, reduction))
            {
                continue;
            }

            // Every reader must read it the same way; a weight also fed to another op stays as it is.
            var readers = weight.Uses.Select(u => u.Node).Distinct().ToList();
            var agree = weight.Uses.All(u => Slot(u.Node, includeGather) == u.InputIndex && Layout(u.Node, tensor) == (kind, output, reduction));
            if (!agree || weight.IsGraphOutput)
            {
                continue;
            }

            if (weight.IsGraphInput)
            {
                overridable.Add(weight);
                continue;
            }

            layers.Add(new PrunableLayer(readers, weight, kind, output, reduction));
        }

        return layers;
    }

    /// <summary>Whether a float type's values can be pruned (zeros written in place).</summary>
    public static bool IsFloat(DataType type) => type is DataType.Float or DataType.Float16 or DataType.BFloat16 or DataType.Double;

    // The input slot that holds the weight, for the ops the pass prunes.
    private static int? Slot(Node node, bool includeGather)
    {
        if (node.Domain is not ("" or "ai.onnx"))
        {
            return null;
        }

        return node.OpType switch
        {
            "Conv" or "Gemm" or "MatMul" => 1,
            "Gather" when includeGather => 0,
            _ => null,
        };
    }

    private static (LayerKind Kind, int Output, int Reduction)? Layout(Node node, Tensor weight)
    {
        var rank = weight.Dims.Count;
        return node.OpType switch
        {
            "Conv" when rank >= 3 => (LayerKind.Conv, 0, 1),
            "Gemm" when rank == 2 => node.GetInt("transB", 0) != 0 ? (LayerKind.Gemm, 0, 1) : (LayerKind.Gemm, 1, 0),
            "MatMul" when rank >= 2 => (LayerKind.MatMul, rank - 1, rank - 2),
            "Gather" when rank >= 2 => (LayerKind.Gather, -1, rank - 1),
            _ => null,
        };
    }
}
