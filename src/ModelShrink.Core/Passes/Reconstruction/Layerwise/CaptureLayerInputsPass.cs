using ModelShrink.Core.Calibration;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.Ir;

namespace ModelShrink.Core.Passes.Reconstruction.Layerwise;

/// <summary>
/// Measures, on the float model (the teacher) and the calibration data, the input second moment
/// H = XᵀX of every MatMul, Gemm and Conv with a constant float weight in the main graph, and leaves
/// a <see cref="LayerwiseReconstruction"/> in the context for the pruning and quantization passes
/// after it. ONNX Runtime runs a copy of the model that exposes the layers' inputs; each batch is
/// folded into the matrices and dropped, so memory grows with the layers' widths (width² doubles per
/// distinct input), never with the number of samples; <see cref="LayerwiseOptions.MemoryBudget"/> caps
/// what one run fills (more inputs take several runs) and what stays in memory (later runs' matrices
/// go to temporary files). Layers reading one activation the same way share a matrix (and its factors).
/// </summary>
public sealed class CaptureLayerInputsPass(LayerwiseOptions options, string calibrationData) : IPass
{
    /// <summary>Counter: weights whose input was measured.</summary>
    public const string LayersMeasured = "layers measured";

    /// <summary>Counter: distinct input matrices (layers reading one activation share one).</summary>
    public const string InputsMeasured = "inputs measured";

    /// <summary>Counter: inputs whose matrices went to temporary files (past the memory budget).</summary>
    public const string InputsSpilled = "inputs moved to files";

    /// <summary>Counter: runs over the data.</summary>
    public const string Runs = "runs over the data";

    /// <inheritdoc/>
    public string Name => "capture-layer-inputs";

    /// <inheritdoc/>
    public IReadOnlyList<PassData> Provides => [SharedPassData.LayerStatistics];

    /// <inheritdoc/>
    public PassResult Run(Model model, PassContext context)
    {
        var geometries = new Dictionary<string, LayerGeometry>(StringComparer.Ordinal);
        var conflicting = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in model.Graph.Nodes)
        {
            if (LayerGeometry.Of(node) is not { } geometry)
            {
                continue;
            }

            // A weight read by several layers is reconstructed for them only when they all see it the same way.
            if (geometries.TryGetValue(geometry.Weight, out var other) && !other.SameView(geometry))
            {
                conflicting.Add(geometry.Weight);
            }

            geometries.TryAdd(geometry.Weight, geometry);
        }

        foreach (var weight in conflicting)
        {
            geometries.Remove(weight);
        }

        // H is width² doubles and U width² floats: past MaxInputWidth a layer keeps plain rounding.
        var wide = geometries.Values.Where(g => g.Columns > options.MaxInputWidth).ToArray();
        foreach (var geometry in wide)
        {
            geometries.Remove(geometry.Weight);
        }

        if (wide.Length > 0)
        {
            context.Warn(ErrorCodes.ReconstructLayerTooWide,
                $"{wide.Length} layer(s) have more than {options.MaxInputWidth} inputs (their H would take {(double)wide.Max(g => g.Columns) * wide.Max(g => g.Columns) * sizeof(double) / (1 << 30):0.#} GB); they keep plain rounding and selection: {string.Join(", ", wide.Take(10).Select(g => g.Node.Name.Length > 0 ? g.Node.Name : g.Weight))}{(wide.Length > 10 ? ", ..." : "")}",
                "Reconstruct");
        }

        var inputs = geometries.Values.GroupBy(g => g.InputKey).ToList();
        var moments = new Dictionary<string, SecondMoment[]>(StringComparer.Ordinal);
        var runs = 0;
        long held = 0;
        var spilled = 0;
        string? spillFolder = null;
        foreach (var part in Partition(inputs))
        {
            Measure(model, part, moments, context);
            runs++;

            // The first MemoryBudget bytes of H stay in memory; later parts go to files, read back one
            // layer at a time when its factor is computed.
            var bytes = part.Sum(p => Bytes(p.First()));
            if (held > 0 && held + bytes > options.MemoryBudget)
            {
                spillFolder ??= Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"modelshrink-h-{Guid.NewGuid():N}")).FullName;
                foreach (var moment in part.SelectMany(p => moments[p.Key]))
                {
                    moment.SpillTo(spillFolder);
                }

                spilled += part.Count;
            }
            else
            {
                held += bytes;
            }
        }

        var captured = geometries.Values.Select(g => new CapturedLayer(g, moments[g.InputKey])).ToList();
        context.Set(SharedPassData.LayerStatistics, new LayerwiseReconstruction(options, captured, spillFolder));
        // Measuring changes nothing in the model.
        return new PassResult(false, new Dictionary<string, long>
        {
            [LayersMeasured] = captured.Count,
            [InputsMeasured] = inputs.Count,
            [Runs] = runs,
            [InputsSpilled] = spilled,
        });
    }

    // Consecutive groups of inputs whose matrices fit the memory budget together (one at least).
    private IEnumerable<List<IGrouping<string, LayerGeometry>>> Partition(List<IGrouping<string, LayerGeometry>> inputs)
    {
        var part = new List<IGrouping<string, LayerGeometry>>();
        long bytes = 0;
        foreach (var input in inputs)
        {
            var size = Bytes(input.First());
            if (part.Count > 0 && bytes + size > options.MemoryBudget)
            {
                yield return part;
                part = [];
                bytes = 0;
            }

            part.Add(input);
            bytes += size;
        }

        if (part.Count > 0)
        {
            yield return part;
        }
    }

    private static long Bytes(LayerGeometry geometry) => (long)geometry.Groups * geometry.Columns * geometry.Columns * sizeof(double);

    private void Measure(Model model, List<IGrouping<string, LayerGeometry>> part, Dictionary<string, SecondMoment[]> moments, PassContext context)
    {
        var byValue = part.GroupBy(p => p.First().Input, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(p => p.First()).ToList(), StringComparer.Ordinal);
        foreach (var input in part)
        {
            var geometry = input.First();
            moments[input.Key] = Enumerable.Range(0, geometry.Groups).Select(_ => new SecondMoment(geometry.Columns)).ToArray();
        }

        AugmentedRun.ForEachBatch(model, byValue.Keys, calibrationData, context.ModelFile, "ReconstructData", output =>
        {
            foreach (var geometry in byValue[output.Name])
            {
                var target = moments[geometry.InputKey];
                try
                {
                    geometry.Accumulate(output.Shape, output.Values, target);
                }
                catch (ArgumentException e)
                {
                    throw context.Error(ErrorCodes.ReconstructNeedsData, $"the input of layer '{geometry.Node.Name}' cannot be measured: {e.Message}", "Reconstruct");
                }
            }
        }, context.Cancellation, parallel: true);
    }
}
