using ModelShrink.Core.Quantization;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;

namespace ModelShrink.Core.Passes.Int8Static;

/// <summary>
/// Folds an inference-mode BatchNormalization into the Conv whose output it alone reads, as ONNX
/// Runtime's ConvBNFusion does (and its quantization tool's pre-processing with it):
/// W' = W * s, B' = (B - mean) * s + beta with s = scale / sqrt(var + epsilon) per output channel,
/// in float32. The folded weight and bias are new initializers (the originals go when nothing else
/// reads them); the Conv takes over the BatchNormalization's output value, name and readers.
/// </summary>
internal static class BatchNormFolding
{
    /// <summary>
    /// Folds every foldable pair whose Conv <paramref name="fold"/> accepts; returns how many.
    /// <paramref name="renamed"/> hears (original weight, folded weight) for each.
    /// </summary>
    public static int Run(Graph graph, Func<Node, bool> fold, Action<string, string>? renamed = null)
    {
        var folded = 0;
        foreach (var conv in graph.Nodes.Where(n => n.Is("Conv")).ToArray())
        {
            if (fold(conv) && Foldable(conv) is { } batchNorm)
            {
                var original = conv.Inputs[1]!.Name;
                Fold(conv, batchNorm);
                renamed?.Invoke(original, conv.Inputs[1]!.Name);
                folded++;
            }
        }

        return folded;
    }

    // The BatchNormalization to fold into `conv`, or null.
    private static Node? Foldable(Node conv)
    {
        if (conv.Outputs[0] is not { IsGraphOutput: false, Uses: [var use] } || use.InputIndex != 0
            || use.Node is not { } bn || !bn.Is("BatchNormalization") || bn.Graph != conv.Graph
            || conv.Inputs.Count < 2 || conv.Inputs[1]?.ConstantTensor is not { DataType: DataType.Float } weight || weight.Dims.Count < 3
            || conv.Inputs.Count > 2 && conv.Inputs[2] is { } bias && bias.ConstantTensor is not { DataType: DataType.Float })
        {
            return null;
        }

        // Inference mode only: training_mode off, no running-statistics outputs read, spatial (before opset 9) on.
        if (bn.GetInt("training_mode", 0) != 0 || bn.GetInt("spatial", 1) != 1 || bn.Inputs.Count != 5
            || bn.Outputs.Skip(1).Any(o => o is not null && (o.Uses.Count > 0 || o.IsGraphOutput)))
        {
            return null;
        }

        // Weights a caller may override (initializers listed as graph inputs) are left alone.
        var channels = weight.Dims[0];
        var constants = conv.Inputs.Skip(1).Concat(bn.Inputs.Skip(1)).OfType<Value>();
        return bn.Inputs.Skip(1).All(p => p?.ConstantTensor is { DataType: DataType.Float } t && t.ElementCount == channels)
            && !constants.Any(v => v.IsGraphInput)
            ? bn
            : null;
    }

    private static void Fold(Node conv, Node bn)
    {
        var graph = conv.Graph;
        var weightValue = conv.Inputs[1]!;
        var weight = weightValue.ConstantTensor!;
        var channels = (int)weight.Dims[0];
        var perChannel = (int)(weight.ElementCount / channels);
        var scale = bn.Inputs[1]!.ConstantTensor!.ToArray<float>();
        var shift = bn.Inputs[2]!.ConstantTensor!.ToArray<float>();
        var mean = bn.Inputs[3]!.ConstantTensor!.ToArray<float>();
        var variance = bn.Inputs[4]!.ConstantTensor!.ToArray<float>();
        var epsilon = bn.GetFloat("epsilon", 1e-5f);
        var oldBias = conv.Inputs.Count > 2 ? conv.Inputs[2] : null;
        var bias = oldBias?.ConstantTensor!.ToArray<float>() ?? new float[channels];

        var values = FloatMemory.Of(weight).ToArray();
        var newBias = new float[channels];
        for (var c = 0; c < channels; c++)
        {
            var factor = scale[c] / MathF.Sqrt(variance[c] + epsilon);
            foreach (ref var w in values.AsSpan(c * perChannel, perChannel))
            {
                w *= factor;
            }

            newBias[c] = (bias[c] - mean[c]) * factor + shift[c];
        }

        var weightGraph = weightValue.Graph;
        var foldedWeight = weightGraph.AddInitializer(Tensor.FromArray<float>(weightGraph.UniqueName(weightValue.Name + "_bn"), weight.Dims.ToArray(), values));
        var foldedBias = graph.AddInitializer(Tensor.FromArray<float>(graph.UniqueName((oldBias?.Name ?? conv.Name + "_bias") + "_bn"), [channels], newBias));
        conv.SetInput(1, foldedWeight);
        if (conv.Inputs.Count > 2)
        {
            conv.SetInput(2, foldedBias);
        }
        else
        {
            conv.AddInput(foldedBias);
        }

        // The Conv's output takes the BatchNormalization's place (and its name, when that is a graph output).
        var convOutput = conv.Outputs[0]!;
        var bnOutput = bn.Outputs[0]!;
        var wasGraphOutput = bnOutput.IsGraphOutput;
        var name = bnOutput.Name;
        convOutput.Type ??= bnOutput.Type;
        bnOutput.ReplaceAllUsesWith(convOutput);
        graph.RemoveNode(bn);
        if (wasGraphOutput)
        {
            graph.RenameValue(convOutput, name);
        }

        WeightFinder.RemoveIfUnused(weightValue);
        foreach (var input in bn.Inputs.Skip(1).Append(oldBias).OfType<Value>())
        {
            WeightFinder.RemoveIfUnused(input);
        }
    }
}
