using ModelShrink.Core.Passes.Cleanup;
using ModelShrink.Core.Passes.Reconstruction.Layerwise;
using ModelShrink.Core.Quantization;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using Attribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Passes.Int4WeightOnly;

/// <summary>
/// "int4": each MatMul whose B is a 2-D float32 weight [K, N] gets it quantized to 4 bits in blocks
/// of <see cref="Int4WeightOnlyOptions.BlockSize"/> along K, written as com.microsoft.MatMulNBits or
/// as an int4 weight with a blocked DequantizeLinear (opset 21). K need not be a multiple of the
/// block size: the last block is zero-padded (MatMulNBits) or short (DequantizeLinear allows a
/// partial last block), so no weight is refused for its shape. Weights are quantized once each, in
/// parallel, however many MatMuls share them. Convs named in <see cref="Int4WeightOnlyOptions.OpTypes"/>
/// (a mixed plan's int4 Convs) keep their weight as int4 codes that a chain folded at load rebuilds
/// (<see cref="Int4ConvWeight"/>).
/// </summary>
public sealed class Int4WeightOnlyPass(Int4WeightOnlyOptions options) : IPass
{
    private const string MicrosoftDomain = "com.microsoft";
    private const int QdqOpset = 21;

    /// <inheritdoc />
    public string Name => "int4";

    /// <inheritdoc />
    public IReadOnlyList<PassData> Uses => [SharedPassData.LayerStatistics];

    /// <inheritdoc />
    public PassResult Run(Model model, PassContext context)
    {
        var blockSize = options.BlockSize;
        if (blockSize < 16 || (blockSize & (blockSize - 1)) != 0)
        {
            throw context.Error(ErrorCodes.QuantInvalidOption,
                $"int4 block size {blockSize} is not a power of two of at least 16 (MatMulNBits and ONNX Runtime's DequantizeLinear fusion need one)",
                "--block-size");
        }

        var finder = new WeightFinder(context.ForQuantizer());
        var excluded = options.ExcludeNodes.ToHashSet(StringComparer.Ordinal);
        var included = options.NodesToQuantize.ToHashSet(StringComparer.Ordinal);
        var graphs = options.Subgraphs ? model.Graph.EnumerateGraphs().ToArray() : [model.Graph];
        var opTypes = options.OpTypes.ToHashSet(StringComparer.Ordinal);
        var targets = graphs.SelectMany(g => g.Nodes)
            .Where(n => (n.Is("MatMul") || n.Is("Conv")) && opTypes.Contains(n.OpType) && !excluded.Contains(n.Name) && (included.Count == 0 || included.Contains(n.Name)))
            .Select(n => (Node: n, Weight: finder.Find(n, 1, rank: n.OpType == "Conv" ? 4 : 2)))
            .Where(t => t.Weight is not null)
            .Select(t => (t.Node, Weight: t.Weight!))
            .ToArray();
        if (targets.Length == 0)
        {
            context.Warn(ErrorCodes.QuantNothingQuantized, $"no {string.Join(" or ", opTypes.Order(StringComparer.Ordinal))} has a float32 weight to quantize; the model is unchanged");
            return new PassResult(false, new Dictionary<string, long> { ["weights skipped"] = finder.Skipped });
        }

        var counters = new Dictionary<string, long>();
        var blocked = options.Format == Int4Format.Qdq || targets.Any(t => t.Node.OpType == "Conv");
        var nbits = options.Format == Int4Format.MatMulNBits && targets.Any(t => t.Node.OpType == "MatMul");
        var convTargets = targets.Any(t => t.Node.OpType == "Conv");
        if (blocked && model.Opsets.Default < QdqOpset && !OpsetRaise.CanRaise(model, QdqOpset))
        {
            if (!convTargets || options.Format == Int4Format.Qdq)
            {
                var blockers = OpsetRaise.Blockers(model, QdqOpset);
                throw context.Error(ErrorCodes.Int4OpsetTooLow,
                    $"the blocked DequantizeLinear form needs opset {QdqOpset} and opset {model.Opsets.Default} cannot be raised unchanged " +
                    $"({OpsetRaise.Describe(blockers)}); use --int4-format matmulnbits",
                    "--int4-format");
            }

            // A plan's int4 Convs: the model's ops are rewritten to opset 21 (Clip's bounds become inputs, ...)
            // as --opset would, since ONNX Runtime casts int4 only from opset 21 on.
            counters["opset upgraded from"] = model.Opsets.Default;
            new UpgradeOpsetPass(QdqOpset).Run(model, context);
            counters["opset upgraded to"] = QdqOpset;
        }

        // Quantize each weight once, in parallel; adding its initializers to the graph waits for the sequential step.
        var weights = targets.Select(t => t.Weight).Distinct().ToArray();
        var initializers = new Func<Value?[]>?[weights.Length];
        var convs = new System.Collections.Concurrent.ConcurrentDictionary<Value, BlockedInt4Weight>();
        Parallel.For(0, weights.Length, i =>
        {
            var weight = weights[i];
            var tensor = weight.ConstantTensor!;
            var values = FloatMemory.Of(tensor);
            try
            {
                if (tensor.Dims.Count == 4)
                {
                    convs[weight] = Int4ConvWeight.Quantize(values.Span, (int)tensor.Dims[0], blockSize, symmetric: !options.ZeroPoints);
                    initializers[i] = () => [];
                    return;
                }

                var (k, n) = ((int)tensor.Dims[0], (int)tensor.Dims[1]);
                var adjust = context.Get(SharedPassData.LayerStatistics)?.Quantizer(weight.Name, tensor.Dims.ToArray(), context.Cancellation);
                if (options.Format == Int4Format.MatMulNBits)
                {
                    var q = BlockQuantizer.ForMatMulNBits(values, k, n, blockSize, symmetric: !options.ZeroPoints, adjust);
                    initializers[i] = () => NBitsInitializers(weight, q);
                }
                else
                {
                    var q = BlockQuantizer.ForDequantizeLinear(values, k, n, blockSize, symmetric: !options.ZeroPoints, adjust);
                    initializers[i] = () => BlockedInitializers(weight, q);
                }
            }
            catch (WeightQuantizer.NonFiniteWeightException)
            {
                initializers[i] = null;
            }
        });

        var inputs = new Dictionary<Value, Value?[]>();
        var dequantized = new Dictionary<(Value, Graph), Value>();
        for (var i = 0; i < weights.Length; i++)
        {
            if (initializers[i] is { } make)
            {
                inputs[weights[i]] = make();
            }
            else
            {
                finder.Warn(weights[i], ErrorCodes.QuantWeightSkipped, $"weight '{weights[i].Name}' holds NaN or infinite values; it stays float32");
            }
        }

        var nodes = 0L;
        foreach (var (node, weight) in targets)
        {
            if (!inputs.TryGetValue(weight, out var values))
            {
                continue;
            }

            if (convs.TryGetValue(weight, out var convWeight))
            {
                if (!dequantized.TryGetValue((weight, node.Graph), out var rebuilt))
                {
                    rebuilt = Int4ConvWeight.Rebuild(weight, convWeight, node);
                    dequantized[(weight, node.Graph)] = rebuilt;
                }

                node.SetInput(1, rebuilt);
            }
            else if (options.Format == Int4Format.MatMulNBits)
            {
                ToMatMulNBits(node, weight, values);
            }
            else
            {
                if (!dequantized.TryGetValue((weight, node.Graph), out var dq))
                {
                    dq = node.Graph.AddNode("DequantizeLinear", values, [weight.Name + "_dequantized"],
                        [Attribute.FromInt("axis", 0), Attribute.FromInt("block_size", blockSize)], "",
                        node.Graph.UniqueNodeName(weight.Name + "_DequantizeLinear"), node).Outputs[0]!;
                    dequantized[(weight, node.Graph)] = dq;
                }

                node.SetInput(1, dq);
            }

            nodes++;
        }

        foreach (var weight in inputs.Keys)
        {
            WeightFinder.RemoveIfUnused(weight);
        }

        if (nodes > 0)
        {
            if (nbits && model.Opsets[MicrosoftDomain] is null)
            {
                model.Opsets.Set(MicrosoftDomain, 1);
            }

            if (blocked && model.Opsets.Default < QdqOpset)
            {
                OpsetRaise.Raise(model, QdqOpset);
                counters["opset raised to"] = QdqOpset;
            }
        }

        counters["nodes quantized"] = nodes;
        counters["weights quantized"] = inputs.Count;
        counters["weights skipped"] = finder.Skipped;
        if (context.Get(SharedPassData.LayerStatistics) is { } layerwise)
        {
            counters[LayerwiseReconstruction.WeightsReconstructed] = layerwise.Quantized.Count(name => inputs.Keys.Any(w => w.Name == name));
        }
        return new PassResult(nodes > 0, counters);
    }

    private static Value?[] NBitsInitializers(Value weight, MatMulNBitsWeight q)
    {
        var graph = weight.Graph;
        var b = graph.AddInitializer(Tensor.FromRawData(graph.UniqueName(weight.Name + "_Q4"), DataType.UInt8,
            [q.N, q.BlocksPerColumn, q.BlobSize], q.B));
        var scales = graph.AddInitializer(Tensor.FromArray<float>(graph.UniqueName(weight.Name + "_scales"), [q.N, q.BlocksPerColumn], q.Scales));
        var zeros = q.ZeroPoints is null
            ? null
            : graph.AddInitializer(Tensor.FromRawData(graph.UniqueName(weight.Name + "_zero_points"), DataType.UInt8,
                [q.N, (q.BlocksPerColumn + 1) / 2], q.ZeroPoints));
        return zeros is null ? [b, scales] : [b, scales, zeros];
    }

    private static Value?[] BlockedInitializers(Value weight, BlockedInt4Weight q)
    {
        var graph = weight.Graph;
        var type = q.Signed ? DataType.Int4 : DataType.UInt4;
        var data = graph.AddInitializer(Tensor.FromRawData(graph.UniqueName(weight.Name + "_quantized"), type, [q.K, q.N], q.Data));
        var scales = graph.AddInitializer(Tensor.FromArray<float>(graph.UniqueName(weight.Name + "_scale"), [q.Blocks, q.N], q.Scales));
        var zeros = q.ZeroPoints is null
            ? null
            : graph.AddInitializer(Tensor.FromRawData(graph.UniqueName(weight.Name + "_zero_point"), DataType.UInt4, [q.Blocks, q.N], q.ZeroPoints));
        return zeros is null ? [data, scales] : [data, scales, zeros];
    }

    // The MatMul node itself becomes the MatMulNBits node, so its output keeps its name and type.
    private void ToMatMulNBits(Node node, Value weight, Value?[] quantized)
    {
        var tensor = weight.ConstantTensor!;
        var a = node.Inputs[0];
        node.OpType = "MatMulNBits";
        node.Domain = MicrosoftDomain;
        node.TruncateInputs(0);
        node.AddInput(a);
        foreach (var input in quantized)
        {
            node.AddInput(input);
        }

        node.Attributes.Clear();
        node.Attributes.Add(Attribute.FromInt("K", tensor.Dims[0]));
        node.Attributes.Add(Attribute.FromInt("N", tensor.Dims[1]));
        node.Attributes.Add(Attribute.FromInt("bits", 4));
        node.Attributes.Add(Attribute.FromInt("block_size", options.BlockSize));
        if (options.AccuracyLevel is { } level)
        {
            node.Attributes.Add(Attribute.FromInt("accuracy_level", level));
        }
    }
}
