using System.Globalization;
using ModelShrink.Core.Calibration;
using ModelShrink.Core.Passes.Reconstruction.Layerwise;
using ModelShrink.Core.Quantization;
using ModelShrink.Core.Validation.Running;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;
using IrAttribute = ModelShrink.Onnx.Ir.Attribute;

namespace ModelShrink.Core.Tests.Reconstruction;

/// <summary>
/// The pieces of layer-wise reconstruction on their own: the second moment, the inverse factor, the
/// im2col view of Conv (against ONNX Runtime's Conv), and GPTQ's rounding onto the quantizers' grids.
/// </summary>
[TestClass]
public sealed class LayerwiseMathTests
{
    public TestContext TestContext { get; set; } = null!;

    // ---- SecondMoment ----------------------------------------------------------------------------

    // Width 5 stays on the serial path, 70 takes the parallel one; 600 rows cross the 256-row chunks.
    [TestMethod]
    [DataRow(5)]
    [DataRow(70)]
    public void SecondMomentEqualsTheNaiveLowerTriangleOfXtXAcrossChunksAndCalls(int width)
    {
        var x = Correlated(600, width, seed: width);
        var inOneCall = new SecondMoment(width);
        inOneCall.Add(x, 600);
        var inSeveral = new SecondMoment(width);
        var start = 0;
        foreach (var count in new[] { 1, 255, 300, 44 })
        {
            inSeveral.Add(x.AsSpan(start * width, count * width), count);
            start += count;
        }

        Assert.AreEqual(600L, inOneCall.Rows);
        Assert.AreEqual(600L, inSeveral.Rows);
        double worst = 0;
        for (var i = 0; i < width; i++)
        {
            for (var j = 0; j < width; j++)
            {
                double expected = 0, bound = 0;
                for (var r = 0; r < 600; r++)
                {
                    expected += (double)x[r * width + i] * x[r * width + j];
                    bound += Math.Abs((double)x[r * width + i] * x[r * width + j]);
                }

                foreach (var moment in new[] { inOneCall, inSeveral })
                {
                    var actual = moment.Lower[i * width + j];
                    if (j > i)
                    {
                        Assert.AreEqual(0.0, actual, $"upper ({i}, {j}) stays zero");
                        continue;
                    }

                    // Chunks are summed in float: within a few float ulps of the sum of magnitudes.
                    Assert.AreEqual(expected, actual, 1e-6 * bound + 1e-12, $"H[{i}, {j}]");
                    worst = Math.Max(worst, Math.Abs(actual - expected) / bound);
                }
            }
        }

        TestContext.WriteLine($"width {width}: worst |H - XᵀX| / Σ|x x| = {worst:G3}");
    }

    // ---- InverseFactor ---------------------------------------------------------------------------

    // Full rank; rank-deficient (fewer rows than columns: only the dampening makes it invertible);
    // wide enough (300) for the parallel Cholesky.
    [TestMethod]
    [DataRow(48, 200, 0.01, 1e-5)]
    [DataRow(64, 20, 0.01, 1e-4)]
    [DataRow(300, 900, 0.01, 1e-5)]
    public void InverseFactorIsUpperTriangularAndInvertsTheDampenedMoment(int n, int rows, double dampening, double tolerance)
    {
        var lower = Moment(Correlated(rows, n, seed: n), rows, n);
        var u = InverseFactor.Compute(lower, n, dampening);

        Assert.IsNotNull(u);
        var error = CheckInverse(u, lower, n, dampening, zeroColumns: []);
        TestContext.WriteLine($"n {n}, rows {rows}: max |UᵀU·(H + λI) - I| = {error:G3}");
        Assert.IsLessThan(tolerance, error);
    }

    // Inputs that are always zero give H zero rows and columns: they are handled (H[i,i] taken as 1), not a failure.
    [TestMethod]
    public void InverseFactorHandlesInputsThatAreNeverNonZero()
    {
        const int n = 40;
        int[] dead = [0, 17, 39];
        var x = Correlated(120, n, seed: 3);
        for (var r = 0; r < 120; r++)
        {
            foreach (var c in dead)
            {
                x[r * n + c] = 0;
            }
        }

        var lower = Moment(x, 120, n);
        var u = InverseFactor.Compute(lower, n, 0.01);

        Assert.IsNotNull(u);
        Assert.IsTrue(u.All(float.IsFinite));
        var error = CheckInverse(u, lower, n, 0.01, dead);
        TestContext.WriteLine($"zero columns {string.Join(",", dead)}: max |UᵀU·(H' + λI) - I| = {error:G3}");
        Assert.IsLessThan(1e-5, error);

        // All zero (no data seen at all): H' = I and the mean diagonal is taken as 1.
        var none = InverseFactor.Compute(new double[25], 5, 0.01);
        Assert.IsNotNull(none);
        Assert.IsLessThan(1e-6, CheckInverse(none, new double[25], 5, 0.01, [0, 1, 2, 3, 4]));
    }

    [TestMethod]
    public void InverseFactorIsNullWhenRaisedDampeningCannotMakeItPositiveDefinite()
    {
        // -100·I: the mean diagonal is not positive, so λ counts in units of 1 and stops at 10.
        var lower = new double[16];
        for (var i = 0; i < 4; i++)
        {
            lower[i * 4 + i] = -100;
        }

        Assert.IsNull(InverseFactor.Compute(lower, 4, 0.01));
    }

    // ---- LayerGeometry: im2col against ONNX Runtime's Conv ------------------------------------------

    [TestMethod]
    [DataRow("pads-strides-dilations-group2")]
    [DataRow("same-upper")]
    [DataRow("same-lower")]
    [DataRow("valid-stride3")]
    [DataRow("1d-group3")]
    public void ConvPatchesTimesTheWeightViewPlusBiasEqualOrtConv(string shape)
    {
        var (input, weight, attributes) = shape switch
        {
            "pads-strides-dilations-group2" => (new long[] { 2, 4, 7, 9 }, new long[] { 6, 2, 3, 2 },
                new[] { IrAttribute.FromInt("group", 2), IrAttribute.FromInts("pads", [1, 0, 2, 1]), IrAttribute.FromInts("strides", [2, 1]), IrAttribute.FromInts("dilations", [1, 2]) }),
            "same-upper" => ([1, 3, 6, 5], [4, 3, 2, 4], [IrAttribute.FromString("auto_pad", "SAME_UPPER"), IrAttribute.FromInts("strides", [2, 1])]),
            "same-lower" => ([1, 3, 6, 5], [4, 3, 2, 4], [IrAttribute.FromString("auto_pad", "SAME_LOWER"), IrAttribute.FromInts("strides", [2, 1])]),
            "valid-stride3" => ([2, 2, 10, 11], [3, 2, 3, 3], [IrAttribute.FromString("auto_pad", "VALID"), IrAttribute.FromInts("strides", [3, 3])]),
            "1d-group3" => ([2, 6, 11], [6, 2, 3], [IrAttribute.FromInt("group", 3), IrAttribute.FromInts("pads", [2, 1]), IrAttribute.FromInts("strides", [2]), IrAttribute.FromInts("dilations", [2])]),
            _ => throw new ArgumentException(shape, nameof(shape)),
        };
        using var temp = new TempDirectory();
        var model = Model.Create("conv", 8, ("", 13));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, input.Select(d => (Dim)d).ToArray()));
        var w = graph.AddInitializer(Tensor.FromArray<float>("w", weight, Random(Count(weight), 1)));
        var b = graph.AddInitializer(Tensor.FromArray<float>("b", [weight[0]], Random((int)weight[0], 2)));
        graph.Outputs.Add(graph.AddNode("Conv", [x, w, b], ["y"], attributes, name: "conv").Outputs[0]!);
        var path = temp.File("conv.onnx");
        ModelWriter.Save(model, path);
        var values = Random(Count(input), 3);

        var y = OrtRunner.Run(path, [Tensor.FromArray<float>("x", input, values)])["y"];

        var geometry = LayerGeometry.Of(ModelReader.Load(path).Graph.Nodes.Single())!;
        var checkedRows = CheckRows(geometry, input, values, y, w.ConstantTensor!.ToFloatArray(), b.ConstantTensor!.ToFloatArray(), batch: (int)input[0]);
        TestContext.WriteLine($"{shape}: {checkedRows} patches x {geometry.Columns} columns in {geometry.Groups} group(s) match ORT's {y.Length} outputs");
        Assert.AreEqual(y.Length, checkedRows * geometry.Rows);
    }

    // Accumulate builds a Conv's patches column by column (SecondMoment.AddColumns: one dot per entry up
    // to 32 columns, packed panels above); H must equal the one the row-by-row im2col gives.
    [TestMethod]
    [DataRow("depthwise-5x5-pads", new long[] { 2, 6, 9, 11 }, new long[] { 6, 1, 5, 5 }, 6, new long[] { 2, 2, 2, 2 }, new long[] { 1, 1 }, new long[] { 1, 1 })]
    [DataRow("depthwise-3x3-stride2", new long[] { 3, 4, 10, 13 }, new long[] { 4, 1, 3, 3 }, 4, new long[] { 1, 1, 1, 1 }, new long[] { 2, 2 }, new long[] { 1, 1 })]
    [DataRow("group2-dilated", new long[] { 2, 4, 7, 9 }, new long[] { 6, 2, 3, 2 }, 2, new long[] { 1, 0, 2, 1 }, new long[] { 2, 1 }, new long[] { 1, 2 })]
    [DataRow("wide-48-stride2", new long[] { 2, 12, 9, 8 }, new long[] { 5, 12, 2, 2 }, 1, new long[] { 0, 1, 1, 0 }, new long[] { 2, 2 }, new long[] { 1, 1 })]
    [DataRow("wide-1x1-over-1024-positions", new long[] { 2, 40, 30, 40 }, new long[] { 3, 40, 1, 1 }, 1, new long[] { 0, 0, 0, 0 }, new long[] { 1, 1 }, new long[] { 1, 1 })]
    public void ConvAccumulateByColumnsGivesTheSecondMomentOfTheRowPatches(string name, long[] input, long[] weight, int groups, long[] pads, long[] strides, long[] dilations)
    {
        var model = Model.Create("conv", 8, ("", 13));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, input.Select(d => (Dim)d).ToArray()));
        var w = graph.AddInitializer(Tensor.FromArray<float>("w", weight, Random(Count(weight), 1)));
        var conv = graph.AddNode("Conv", [x, w], ["y"],
            [IrAttribute.FromInt("group", groups), IrAttribute.FromInts("pads", pads), IrAttribute.FromInts("strides", strides), IrAttribute.FromInts("dilations", dilations)], name: "conv");
        var geometry = LayerGeometry.Of(conv)!;
        var values = Random(Count(input), 3);

        var byColumns = Enumerable.Range(0, geometry.Groups).Select(_ => new SecondMoment(geometry.Columns)).ToArray();
        geometry.Accumulate(input, values, byColumns);
        var byRows = Enumerable.Range(0, geometry.Groups).Select(_ => new SecondMoment(geometry.Columns)).ToArray();
        geometry.ForEachRows(input, values, (group, rows, count) => byRows[group].Add(rows, count));

        double worst = 0;
        for (var g = 0; g < geometry.Groups; g++)
        {
            Assert.AreEqual(byRows[g].Rows, byColumns[g].Rows, $"group {g}: rows");
            var diagonal = Enumerable.Range(0, geometry.Columns).Max(i => byRows[g].Lower[i * geometry.Columns + i]);
            for (var i = 0; i < byRows[g].Lower.Length; i++)
            {
                // Both sum chunks in float: equal to a few float ulps of the largest diagonal entry.
                Assert.AreEqual(byRows[g].Lower[i], byColumns[g].Lower[i], 1e-5 * diagonal, $"group {g}: H entry {i}");
                worst = Math.Max(worst, Math.Abs(byRows[g].Lower[i] - byColumns[g].Lower[i]) / diagonal);
            }
        }

        TestContext.WriteLine($"{name}: {geometry.Groups} group(s) of {geometry.Columns} columns, {byRows[0].Rows} rows each; worst difference {worst:G3} of the largest diagonal");
    }

    // The fixture's own Conv layers, on one holdout set: input and output from ONNX Runtime.
    [TestMethod]
    public void DigitsCnnConvPatchesTimesTheWeightViewPlusBiasEqualOrtConv()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-cnn"));
        var convs = model.Graph.Nodes.Where(n => n.OpType == "Conv").ToList();
        Assert.HasCount(3, convs);
        var names = convs.SelectMany(c => new[] { c.Inputs[0]!.Name, c.Outputs[0]!.Name }).Distinct().ToList();
        var outputs = new Dictionary<string, OutputValues>();
        AugmentedRun.ForEachBatch(model, names, Fixtures.DataSets("digits-cnn")[0], "test", "Holdout", o => outputs[o.Name] = o);
        foreach (var conv in convs)
        {
            var geometry = LayerGeometry.Of(conv)!;
            var input = outputs[conv.Inputs[0]!.Name];
            var output = outputs[conv.Outputs[0]!.Name];
            var rows = CheckRows(geometry, input.Shape, input.Values, output.Values, conv.Inputs[1]!.ConstantTensor!.ToFloatArray(),
                conv.Inputs[2]!.ConstantTensor!.ToFloatArray(), batch: (int)input.Shape[0]);
            TestContext.WriteLine($"{conv.Name}: input [{string.Join(",", input.Shape)}], {rows} patches of {geometry.Columns} match ORT");
            Assert.AreEqual(output.Values.Length, rows * geometry.Rows);
        }
    }

    // MatMul over a 3-D activation (rows = batch x tokens) and Gemm with transA (rows = columns of A).
    [TestMethod]
    public void MatMulAndTransposedGemmRowsTimesTheWeightViewEqualOrt()
    {
        using var temp = new TempDirectory();
        var model = Model.Create("dense", 8, ("", 13));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, 2, 3, 12));
        var a = graph.AddInput("a", TensorType.Of(DataType.Float, 12, 7));
        var w = graph.AddInitializer(Tensor.FromArray<float>("w", [12, 5], Random(60, 1)));
        var bt = graph.AddInitializer(Tensor.FromArray<float>("bt", [10, 12], Random(120, 2)));
        var c = graph.AddInitializer(Tensor.FromArray<float>("c", [10], Random(10, 3)));
        graph.Outputs.Add(graph.AddNode("MatMul", [x, w], ["m"], name: "matmul").Outputs[0]!);
        graph.Outputs.Add(graph.AddNode("Gemm", [a, bt, c], ["g"], [IrAttribute.FromInt("transA", 1), IrAttribute.FromInt("transB", 1)], name: "gemm").Outputs[0]!);
        var path = temp.File("dense.onnx");
        ModelWriter.Save(model, path);
        var xv = Random(72, 4);
        var av = Random(84, 5);

        var outputs = OrtRunner.Run(path, [Tensor.FromArray<float>("x", [2, 3, 12], xv), Tensor.FromArray<float>("a", [12, 7], av)]);

        var nodes = ModelReader.Load(path).Graph.Nodes;
        var matmul = LayerGeometry.Of(nodes.Single(n => n.OpType == "MatMul"))!;
        Assert.AreEqual((12, 5), (matmul.Columns, matmul.Rows));
        Assert.AreEqual(6, CheckRows(matmul, [2, 3, 12], xv, outputs["m"], w.ConstantTensor!.ToFloatArray(), new float[5], batch: 1));
        var gemm = LayerGeometry.Of(nodes.Single(n => n.OpType == "Gemm"))!;
        Assert.AreEqual((12, 10), (gemm.Columns, gemm.Rows));
        Assert.AreEqual(7, CheckRows(gemm, [12, 7], av, outputs["g"], bt.ConstantTensor!.ToFloatArray(), c.ConstantTensor!.ToFloatArray(), batch: 1));
    }

    // ---- GPTQ onto the quantizers' grids --------------------------------------------------------------

    // What each quantizer stores, dequantized, is exactly what GPTQ returned (every value on the grid),
    // and GPTQ's output error on the measured inputs, tr(E·H·Eᵀ), is below plain rounding's.
    [TestMethod]
    [DataRow("MatMul", "int8-per-channel")]
    [DataRow("MatMul", "uint8-per-tensor-reduce-range")]
    [DataRow("Gemm", "int8-per-channel")]
    [DataRow("Conv", "uint8-per-channel")]
    [DataRow("Conv", "int8-per-tensor")]
    [DataRow("MatMul", "int4-symmetric")]
    [DataRow("MatMul", "int4-zero-points")]
    [DataRow("MatMul", "matmulnbits-symmetric")]
    [DataRow("MatMul", "matmulnbits-zero-points")]
    [DataRow("Gemm", "int8-per-channel", false)]
    [DataRow("Conv", "uint8-per-channel", false)]
    public void GptqOutputLiesOnTheQuantizersGridAndLowersTheLayerError(string op, string quantizer, bool actOrder = true)
    {
        var (geometry, values) = Layer(op);
        var layer = new CapturedLayer(geometry, Moments(geometry, seed: 11));
        var reconstruction = new LayerwiseReconstruction(new LayerwiseOptions { ActOrder = actOrder }, [layer]);
        var gptq = reconstruction.Quantizer(geometry.Weight, geometry.WeightDims)!;
        Assert.IsNotNull(gptq);
        float[]? adjusted = null;
        WeightAdjuster capture = (v, grid) => adjusted = gptq(v, grid);

        var dims = geometry.WeightDims;
        var axis = op == "MatMul" ? 1 : 0;
        Func<WeightAdjuster?, Func<long, float>> quantize = quantizer switch
        {
            "int8-per-channel" => adjust => Dequantized(WeightQuantizer.PerChannel(values, dims, axis, QuantScheme.Default(WeightType.Int8), adjust)),
            "uint8-per-channel" => adjust => Dequantized(WeightQuantizer.PerChannel(values, dims, axis, QuantScheme.Default(WeightType.UInt8), adjust)),
            "uint8-per-tensor-reduce-range" => adjust => Dequantized(WeightQuantizer.PerTensor(values, dims, QuantScheme.Default(WeightType.UInt8, reduceRange: true), adjust)),
            "int8-per-tensor" => adjust => Dequantized(WeightQuantizer.PerTensor(values, dims, QuantScheme.Default(WeightType.Int8), adjust)),
            "int4-symmetric" or "int4-zero-points" => adjust =>
                Dequantized(BlockQuantizer.ForDequantizeLinear(values, (int)dims[0], (int)dims[1], 16, symmetric: quantizer.EndsWith("symmetric", StringComparison.Ordinal), adjust)),
            _ => adjust => Dequantized(BlockQuantizer.ForMatMulNBits(values, (int)dims[0], (int)dims[1], 16, symmetric: quantizer.EndsWith("symmetric", StringComparison.Ordinal), adjust)),
        };

        var rounded = quantize(null);
        var stored = quantize(capture);

        Assert.IsNotNull(adjusted, "GPTQ adjusted the weight");
        Assert.Contains(geometry.Weight, reconstruction.Quantized);
        var moved = 0;
        for (long i = 0; i < values.Length; i++)
        {
            Assert.AreEqual(adjusted[i], stored(i), $"element {i}: GPTQ's value is what the quantizer stores");
            moved += adjusted[i] != rounded(i) ? 1 : 0;
        }

        var plainError = LayerError(layer, values, i => rounded(i));
        var gptqError = LayerError(layer, values, i => adjusted[i]);
        TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{op} {quantizer}{(actOrder ? "" : ", natural order")}: {moved} of {values.Length} values off plain rounding; tr(E·H·Eᵀ) plain {plainError:G4}, GPTQ {gptqError:G4} ({gptqError / plainError:P1})"));
        Assert.IsGreaterThan(0, moved);
        Assert.IsLessThan(0.9 * plainError, gptqError, "GPTQ lowers the output error on the measured inputs");
    }

    // ---- helpers -----------------------------------------------------------------------------------

    // A layer of each kind, its geometry and its weight: MatMul W[48, 24], Gemm (transB) W[24, 40], Conv W[8, 4, 3, 3] in 2 groups.
    private static (LayerGeometry Geometry, float[] Values) Layer(string op)
    {
        var model = Model.Create("layer", 8, ("", 13));
        var graph = model.Graph;
        var (input, dims, attributes) = op switch
        {
            "MatMul" => (TensorType.Of(DataType.Float, "N", 48), new long[] { 48, 24 }, Array.Empty<IrAttribute>()),
            "Gemm" => (TensorType.Of(DataType.Float, "N", 40), [24, 40], [IrAttribute.FromInt("transB", 1)]),
            _ => (TensorType.Of(DataType.Float, "N", 8, 6, 6), [8, 4, 3, 3], [IrAttribute.FromInt("group", 2)]),
        };
        var values = Random(Count(dims), 7);
        var x = graph.AddInput("x", input);
        var w = graph.AddInitializer(Tensor.FromArray<float>("w", dims, values));
        var node = graph.AddNode(op, [x, w], ["y"], attributes);
        return (LayerGeometry.Of(node)!, values);
    }

    // H per group from 300 correlated input rows.
    private static SecondMoment[] Moments(LayerGeometry geometry, int seed) =>
        Enumerable.Range(0, geometry.Groups).Select(g =>
        {
            var moment = new SecondMoment(geometry.Columns);
            moment.Add(Correlated(300, geometry.Columns, seed + g), 300);
            return moment;
        }).ToArray();

    // Σ over groups of tr(E·H·Eᵀ), E the view of (W - Q): the squared output error summed over the measured rows.
    private static double LayerError(CapturedLayer layer, float[] original, Func<long, float> quantized)
    {
        var geometry = layer.Geometry;
        var n = geometry.Columns;
        double total = 0;
        for (var g = 0; g < geometry.Groups; g++)
        {
            var lower = layer.Moments[g].Lower;
            for (var r = 0; r < geometry.Rows; r++)
            {
                var e = Enumerable.Range(0, n).Select(c => (double)original[geometry.Index(g, r, c)] - quantized(geometry.Index(g, r, c))).ToArray();
                for (var i = 0; i < n; i++)
                {
                    for (var j = 0; j < n; j++)
                    {
                        total += e[i] * (i >= j ? lower[i * n + j] : lower[j * n + i]) * e[j];
                    }
                }
            }
        }

        return total;
    }

    private static Func<long, float> Dequantized(QuantizedWeight weight) => weight.Dequantize;

    private static Func<long, float> Dequantized(BlockedInt4Weight weight) => i => weight.Dequantize((int)(i / weight.N), (int)(i % weight.N));

    private static Func<long, float> Dequantized(MatMulNBitsWeight weight) => i => weight.Dequantize((int)(i / weight.N), (int)(i % weight.N));

    // Checks every row the geometry hands out (group by group, image by image, output position by
    // position) against ORT: W_view·row + bias = y[b, g·Rows + r, position]. Returns the rows per group summed.
    private static int CheckRows(LayerGeometry geometry, long[] shape, float[] values, float[] y, float[] weight, float[] bias, int batch)
    {
        var seen = new int[geometry.Groups];
        var total = 0;
        geometry.ForEachRows(shape, values, (group, rows, count) =>
        {
            var positions = y.Length / batch / (geometry.Rows * geometry.Groups);
            for (var k = 0; k < count; k++)
            {
                var index = seen[group]++;
                var (image, position) = Math.DivRem(index, positions);
                var row = rows.Slice(k * geometry.Columns, geometry.Columns);
                for (var r = 0; r < geometry.Rows; r++)
                {
                    var channel = group * geometry.Rows + r;
                    double sum = bias[channel];
                    for (var c = 0; c < geometry.Columns; c++)
                    {
                        sum += (double)weight[geometry.Index(group, r, c)] * row[c];
                    }

                    // [B, C, positions] for Conv; [rows, outputs] for MatMul and Gemm (one group).
                    var at = geometry.Node.OpType == "Conv"
                        ? ((long)image * geometry.Groups * geometry.Rows + channel) * positions + position
                        : (long)index * geometry.Rows + r;
                    Assert.AreEqual(y[at], sum, 1e-4, $"group {group}, row {index}, output {r}");
                }
            }

            total += count;
        });
        return total;
    }

    // H's lower triangle in double, the naive way.
    private static double[] Moment(float[] x, int rows, int n)
    {
        var lower = new double[n * n];
        for (var r = 0; r < rows; r++)
        {
            for (var i = 0; i < n; i++)
            {
                for (var j = 0; j <= i; j++)
                {
                    lower[i * n + j] += (double)x[r * n + i] * x[r * n + j];
                }
            }
        }

        return lower;
    }

    // max |UᵀU·(H' + λ·mean(diag H)·I) - I| after checking that U is upper-triangular; H' is H with 1 on
    // the diagonal of the zero columns (the mean is taken over H's own diagonal, 1 when it is 0).
    private static double CheckInverse(float[] u, double[] lower, int n, double dampening, int[] zeroColumns)
    {
        var mean = Enumerable.Range(0, n).Average(i => lower[i * n + i]);
        mean = mean > 0 ? mean : 1;
        var h = new double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                h[i * n + j] = i >= j ? lower[i * n + j] : lower[j * n + i];
                if (j < i)
                {
                    Assert.AreEqual(0f, u[i * n + j], $"U[{i}, {j}] below the diagonal");
                }
            }

            h[i * n + i] += (zeroColumns.Contains(i) ? 1 : 0) + dampening * mean;
        }

        // P = UᵀU, then max |P·H - I|.
        var p = new double[n * n];
        for (var k = 0; k < n; k++)
        {
            for (var i = k; i < n; i++)
            {
                for (var j = k; j < n; j++)
                {
                    p[i * n + j] += (double)u[k * n + i] * u[k * n + j];
                }
            }
        }

        double worst = 0;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                double sum = 0;
                for (var k = 0; k < n; k++)
                {
                    sum += p[i * n + k] * h[k * n + j];
                }

                worst = Math.Max(worst, Math.Abs(sum - (i == j ? 1 : 0)));
            }
        }

        return worst;
    }

    // Rows of inputs with a shared factor and neighbouring columns mixed, so H is far from diagonal.
    private static float[] Correlated(int rows, int n, int seed)
    {
        var random = new Random(seed);
        var x = new float[rows * n];
        for (var r = 0; r < rows; r++)
        {
            var shared = random.NextDouble() * 2 - 1;
            var previous = 0.0;
            for (var c = 0; c < n; c++)
            {
                var own = random.NextDouble() * 2 - 1;
                var value = 0.6 * own + 0.5 * shared + 0.4 * previous;
                x[r * n + c] = (float)value;
                previous = own;
            }
        }

        return x;
    }

    private static float[] Random(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    private static int Count(long[] dims) => (int)dims.Aggregate(1L, (a, b) => a * b);

    // A square weight read as MatMul's [K, N] and as a transposed Gemm's [N, K] swaps inputs and outputs:
    // one H cannot serve both. Two MatMuls of one input share it.
    [TestMethod]
    public void LayersReadingOneWeightShareItsViewOnlyInTheSameLayout()
    {
        var model = Model.Create("shared", 8, ("", 13));
        var graph = model.Graph;
        var x = graph.AddInput("x", TensorType.Of(DataType.Float, "N", 16));
        var w = graph.AddInitializer(Tensor.FromArray<float>("W", [16, 16], new float[256]));
        var first = graph.AddNode("MatMul", [x, w], ["a"]);
        var second = graph.AddNode("MatMul", [x, w], ["b"]);
        var transposed = graph.AddNode("Gemm", [x, w], ["c"], [IrAttribute.FromInt("transB", 1)]);

        Assert.IsTrue(LayerGeometry.Of(first)!.SameView(LayerGeometry.Of(second)!));
        Assert.IsFalse(LayerGeometry.Of(first)!.SameView(LayerGeometry.Of(transposed)!));
        Assert.AreEqual(LayerGeometry.Of(first)!.InputKey, LayerGeometry.Of(transposed)!.InputKey, "same input rows: only the layout tells them apart");
    }

}
