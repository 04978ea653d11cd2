using ModelShrink.Core.Calibration;
using ModelShrink.Core.Tests.Quantization;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Calibration;

[TestClass]
public sealed class CalibrationTests
{
    [TestMethod]
    public void MinMaxRangesAreTheExtremesOrtComputesForEachActivation()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var relus = model.Graph.Nodes.Where(n => n.Is("Relu")).Select(n => n.Outputs[0]!.Name).ToArray();

        var ranges = ActivationCalibration.Measure(model, [.. relus, "logits"], Path.Combine(Fixtures.Root, "digits-mlp"), CalibrationMethod.MinMax, "digits-mlp");

        // The logits are a real output: their extremes come straight from a separate ORT run.
        var logits = Fixtures.DataSets("digits-mlp").SelectMany(s => OrtRunner.Run(Fixtures.Model("digits-mlp"), Fixtures.Inputs(s))["logits"]).ToArray();
        Assert.AreEqual(Math.Min(0, logits.Min()), ranges["logits"].Min);
        Assert.AreEqual(Math.Max(0, logits.Max()), ranges["logits"].Max);
        foreach (var relu in relus)
        {
            Assert.AreEqual(0f, ranges[relu].Min, "a ReLU output is never negative");
            Assert.IsGreaterThan(0f, ranges[relu].Max);
        }
    }

    [TestMethod]
    public void CalibratingAModelWithExternalDataCopiesNoWeightIntoMemoryAndLeavesTheModelAsItWas()
    {
        // Four 1024x1024 MatMuls (16 MB) in external data. The augmented copy used to go through one
        // in-memory protobuf: every weight copied three more times (4.5x the weights allocated), and
        // MSH2000 (overflow) past 2 GB of weights. Now each weight is read from its file once, to be written.
        const int side = 1024;
        const long weightBytes = 4L * side * side * 4;
        using var temp = new TempDirectory();
        var source = GeneratedModels.WriteMatMulChain(temp.File("model.onnx"), side, 4, new ModelSaveOptions { ExternalDataThreshold = 1024 });
        var random = new Random(11);
        var sets = Enumerable.Range(0, 3).Select(i => StaticQuantization.WriteDataSet(temp.Path, i,
            Tensor.FromArray<float>("x", [2, side], Enumerable.Range(0, 2 * side).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()))).ToArray();
        var model = ModelReader.Load(source);
        var outputs = model.Graph.Outputs.Select(v => v.Name).ToArray();
        var types = model.Graph.Values.Where(v => v.Name is "h0" or "h1").Select(v => v.Type).ToArray();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var ranges = ActivationCalibration.Measure(model, ["x", "h0", "h1"], temp.Path, CalibrationMethod.MinMax, "model.onnx");
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.IsLessThan(3 * weightBytes / 2, allocated, $"allocated {allocated} bytes for {weightBytes} bytes of weights");
        // The same generator with two layers draws the same first two weights: its output is h1.
        var twoLayers = GeneratedModels.WriteMatMulChain(temp.File("two-layers.onnx"), side, 2);
        var h1 = sets.SelectMany(s => OrtRunner.Run(twoLayers, Fixtures.Inputs(s))["h1"]).ToArray();
        Assert.AreEqual(h1.Max(), ranges["h1"].Max, 1e-5 * Math.Abs(h1.Max()));
        Assert.AreEqual(h1.Min(), ranges["h1"].Min, 1e-5 * Math.Abs(h1.Min()));
        CollectionAssert.AreEqual(outputs, model.Graph.Outputs.Select(v => v.Name).ToArray(), "the outputs added for the run are gone");
        CollectionAssert.AreEqual(types, model.Graph.Values.Where(v => v.Name is "h0" or "h1").Select(v => v.Type).ToArray());
    }

    [TestMethod]
    public void CalibratingOnlyGraphInputsRunsNoModel()
    {
        // x feeds an operator ONNX Runtime does not know: a session could not even be created. The range
        // of an input comes from the data alone (a one-MatMul model: no copy of its weights written, none loaded).
        using var temp = new TempDirectory();
        var model = Model.Create("unknown-op", 8, ("", 17), ("test.unknown", 1));
        var x = model.Graph.AddInput("x", TensorType.Of(DataType.Float, "N", 4));
        var y = model.Graph.AddNode("Mystery", [x], ["y"], domain: "test.unknown").Outputs[0]!;
        y.Type = TensorType.Of(DataType.Float, "N", 4);
        model.Graph.Outputs.Add(y);
        StaticQuantization.WriteDataSet(temp.Path, 0, Tensor.FromArray<float>("x", [2, 4], [-3f, 0.5f, 1f, 2f, 0f, 7f, -1f, 4f]));

        var ranges = ActivationCalibration.Measure(model, ["x"], temp.Path, CalibrationMethod.MinMax, "unknown-op.onnx");

        Assert.AreEqual(-3f, ranges["x"].Min);
        Assert.AreEqual(7f, ranges["x"].Max);
    }

    [TestMethod]
    public void PercentileAndEntropyRangesLieWithinMinMax()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-cnn"));
        var values = model.Graph.Nodes.Where(n => n.Is("Relu")).Select(n => n.Outputs[0]!.Name).ToArray();
        var data = Path.Combine(Fixtures.Root, "digits-cnn");

        var minMax = ActivationCalibration.Measure(model, values, data, CalibrationMethod.MinMax, "digits-cnn");
        var percentile = ActivationCalibration.Measure(model, values, data, CalibrationMethod.Percentile, "digits-cnn");
        var entropy = ActivationCalibration.Measure(model, values, data, CalibrationMethod.Entropy, "digits-cnn");

        foreach (var value in values)
        {
            Assert.IsLessThanOrEqualTo(minMax[value].Max, percentile[value].Max);
            Assert.IsLessThanOrEqualTo(minMax[value].Max, entropy[value].Max);
            Assert.IsGreaterThan(0.2f * minMax[value].Max, entropy[value].Max, "entropy keeps the bulk of the distribution");
        }
    }

    [TestMethod]
    public void TheHistogramWidensWithoutLosingCountsAndFindsPercentiles()
    {
        var histogram = new AbsHistogram(bins: 1000);
        var random = new Random(3);
        var first = Enumerable.Range(0, 10_000).Select(_ => (float)random.NextDouble()).ToArray();
        var second = Enumerable.Range(0, 10_000).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();

        histogram.Add(first);
        histogram.Add(second);
        var median = histogram.Percentile(50).Max;

        Assert.AreEqual(20_000L, histogram.Count);
        Assert.AreEqual(-2, histogram.Min, 0.01);
        Assert.AreEqual(2, histogram.Max, 0.01);
        // Half of |x| lies below about 0.67 for this mixture (uniform[0,1) and |uniform[-2,2)|).
        Assert.AreEqual(0.667, median, 0.03);
    }

    [TestMethod]
    public void EntropyClipsALoneOutlier()
    {
        var histogram = new AbsHistogram();
        var random = new Random(5);
        var values = Enumerable.Range(0, 50_000).Select(_ => (float)(random.NextDouble() * 2 - 1)).Append(100f).ToArray();

        histogram.Add(values);
        var range = histogram.EntropyThreshold();

        Assert.AreEqual(100f, histogram.Max);
        Assert.IsLessThan(10f, range.Max, "one value at 100 should not stretch the range of values in [-1, 1]");
        Assert.IsGreaterThanOrEqualTo(0.9f, range.Max);
    }
}
