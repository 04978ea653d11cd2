using ModelShrink.Core.Validation;
using ModelShrink.Core.Validation.Metrics;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Validation;

[TestClass]
public sealed class ModelComparerTests
{
    [TestMethod]
    public void TheReportedAccuracyIsWhatASeparateOrtRunOfTheWrittenFileGives()
    {
        using var temp = new TempDirectory();
        var candidate = Perturbed(temp, "digits-cnn", 0.35f);

        var result = ModelComparer.Compare(Fixtures.Model("digits-cnn"), candidate, Path.Combine(Fixtures.Root, "digits-cnn"));

        var labels = Fixtures.Labels("digits-cnn");
        var (originalTop, candidateTop) = (TopOne("digits-cnn", Fixtures.Model("digits-cnn")), TopOne("digits-cnn", candidate));
        Assert.AreEqual(Metric.Accuracy, result.Metric);
        Assert.AreEqual(256L, result.Values.Samples);
        Assert.AreEqual(candidateTop.Zip(labels).Count(p => p.First == p.Second) / 256.0, result.Value);
        Assert.AreEqual(originalTop.Zip(labels).Count(p => p.First == p.Second) / 256.0, result.Values.OriginalAccuracy);
        Assert.AreEqual(originalTop.Zip(candidateTop).Count(p => p.First == p.Second) / 256.0, result.Values.Agreement);
        Assert.IsLessThan(1.0, result.Values.Agreement!.Value, "the perturbation must change some predictions");
        Assert.AreEqual(253 / 256.0, result.Values.OriginalAccuracy);
    }

    [TestMethod]
    public void AModelComparedWithItselfAgreesEverywhere()
    {
        var result = ModelComparer.Compare(Fixtures.Model("digits-lstm"), Fixtures.Model("digits-lstm"), Path.Combine(Fixtures.Root, "digits-lstm"));

        Assert.AreEqual(1.0, result.Values.Agreement);
        Assert.AreEqual(1.0, result.Values.Cosine, 1e-12);
        Assert.AreEqual(0.0, result.Values.MaxAbs);
        Assert.IsTrue(double.IsPositiveInfinity(result.Values.Snr));
        Assert.AreEqual(result.Values.OriginalAccuracy, result.Values.Accuracy);
    }

    [TestMethod]
    public void NpzHoldoutGivesTheSameNumbersAsTheTestDataFoldersInAnyBatchSize()
    {
        using var temp = new TempDirectory();
        var npz = temp.File("holdout.npz");
        WriteNpz("digits-mlp", npz);
        var candidate = Perturbed(temp, "digits-mlp", 0.5f);

        var fromFolders = ModelComparer.Compare(Fixtures.Model("digits-mlp"), candidate, Path.Combine(Fixtures.Root, "digits-mlp"));
        var fromNpz = ModelComparer.Compare(Fixtures.Model("digits-mlp"), candidate, npz, new ValidationOptions(BatchSize: 50));

        Assert.AreEqual(fromFolders.Values.Samples, fromNpz.Values.Samples);
        Assert.AreEqual(fromFolders.Values.Accuracy, fromNpz.Values.Accuracy);
        Assert.AreEqual(fromFolders.Values.Agreement, fromNpz.Values.Agreement);
        Assert.AreEqual(fromFolders.Values.MaxAbs, fromNpz.Values.MaxAbs);
        Assert.AreEqual(fromFolders.Values.Cosine, fromNpz.Values.Cosine, 1e-9);
    }

    [TestMethod]
    public void ALoneNpyArrayFeedsASingleInputModelAndWithoutLabelsAgreementIsTheDefault()
    {
        using var temp = new TempDirectory();
        var npy = temp.File("pixels.npy");
        File.WriteAllBytes(npy, NpyWriter.Npy(Concatenate("digits-mlp", "pixels")));

        var result = ModelComparer.Compare(Fixtures.Model("digits-mlp"), Fixtures.Model("digits-mlp-inputs"), npy);

        Assert.AreEqual(Metric.Agreement, result.Metric);
        Assert.AreEqual(1.0, result.Value);
        Assert.IsNull(result.Values.Accuracy);
        Assert.AreEqual(256L, result.Values.Samples);
    }

    [TestMethod]
    public void AModelWithAFixedBatchDimensionGetsBatchesOfExactlyThatSize()
    {
        using var temp = new TempDirectory();
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var dims = model.Graph.Inputs[0].Type!.TensorType.Shape.Dim;
        dims[0] = new ModelShrink.Onnx.Protobuf.TensorShapeProto.Types.Dimension { DimValue = 32 };
        var fixedBatch = temp.File("fixed.onnx");
        ModelWriter.Save(model, fixedBatch);
        var npz = temp.File("holdout.npz");
        WriteNpz("digits-mlp", npz);

        var result = ModelComparer.Compare(fixedBatch, fixedBatch, npz, new ValidationOptions(BatchSize: 100));

        Assert.AreEqual(256L, result.Values.Samples);
        Assert.AreEqual(252 / 256.0, result.Values.Accuracy);
    }

    [TestMethod]
    public void AccuracyWithoutLabelsIsAClearError()
    {
        using var temp = new TempDirectory();
        var npy = temp.File("input.npy");
        File.WriteAllBytes(npy, NpyWriter.Npy(Concatenate("digits-mlp", "input")));

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => ModelComparer.Compare(Fixtures.Model("digits-mlp"), Fixtures.Model("digits-mlp"), npy, new ValidationOptions(Metric: Metric.Accuracy)));

        Assert.AreEqual(ErrorCodes.ValidationOutput, error.Diagnostic.Code);
        StringAssert.StartsWith(error.Diagnostic.Message, "metric Accuracy needs labels");
    }

    [TestMethod]
    public void HoldoutOfTheWrongShapeNamesTheInputTheExpectedAndTheFoundShape()
    {
        var error = Assert.ThrowsExactly<ModelShrinkException>(() =>
            ModelComparer.Compare(Fixtures.Model("digits-cnn"), Fixtures.Model("digits-cnn"), Path.Combine(Fixtures.Root, "digits-mlp")));

        Assert.AreEqual(ErrorCodes.HoldoutMismatch, error.Diagnostic.Code);
        Assert.AreEqual("holdout test_data_set_0 input 'input': expected shape [?,1,8,8], found [32,64]", error.Diagnostic.Message);
    }

    [TestMethod]
    public void HoldoutOfTheWrongElementTypeNamesBothTypes()
    {
        using var temp = new TempDirectory();
        var npz = temp.File("doubles.npz");
        var floats = Concatenate("digits-mlp", "input");
        NpyWriter.Npz(npz, Tensor.FromArray<double>("input", floats.Dims.ToArray(), floats.ToArray<float>().Select(v => (double)v).ToArray()));

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => ModelComparer.Compare(Fixtures.Model("digits-mlp"), Fixtures.Model("digits-mlp"), npz));

        Assert.AreEqual(ErrorCodes.HoldoutMismatch, error.Diagnostic.Code);
        StringAssert.EndsWith(error.Diagnostic.Message, "input 'input': expected float32, found float64");
    }

    [TestMethod]
    public void AnArrayNamedAfterNoInputIsRefused()
    {
        using var temp = new TempDirectory();
        var npz = temp.File("named.npz");
        NpyWriter.Npz(npz, Concatenate("digits-mlp", "x"), Concatenate("digits-mlp", "y"));

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => ModelComparer.Compare(Fixtures.Model("digits-mlp"), Fixtures.Model("digits-mlp"), npz));

        StringAssert.Contains(error.Diagnostic.Message, "has no data for model input 'input' (it has: x, y)");
    }

    [TestMethod]
    public void LabelsThatDoNotMatchTheSampleCountAreRefused()
    {
        using var temp = new TempDirectory();
        var npz = temp.File("short-labels.npz");
        NpyWriter.Npz(npz, Concatenate("digits-mlp", "input"), Tensor.FromArray<long>("labels", [10], new long[10]));

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => ModelComparer.Compare(Fixtures.Model("digits-mlp"), Fixtures.Model("digits-mlp"), npz));

        Assert.AreEqual(ErrorCodes.HoldoutMismatch, error.Diagnostic.Code);
        StringAssert.Contains(error.Diagnostic.Message, "array 'labels' has 10 samples but 'input' has 256");
    }

    [TestMethod]
    public void MissingHoldoutAndNonNumpyFilesAreMsh4001()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("data.npz"), "not a zip");

        Assert.AreEqual(ErrorCodes.HoldoutUnreadable, Assert.ThrowsExactly<ModelShrinkException>(() => ModelComparer.Compare(Fixtures.Model("digits-mlp"), Fixtures.Model("digits-mlp"), temp.File("nope"))).Diagnostic.Code);
        Assert.AreEqual(ErrorCodes.HoldoutUnreadable, Assert.ThrowsExactly<ModelShrinkException>(() => ModelComparer.Compare(Fixtures.Model("digits-mlp"), Fixtures.Model("digits-mlp"), temp.File("data.npz"))).Diagnostic.Code);
    }

    // A copy of a fixture whose last Gemm bias is shifted by noise: a real ORT-run candidate that disagrees sometimes.
    private static string Perturbed(TempDirectory temp, string fixture, float scale)
    {
        var model = ModelReader.Load(Fixtures.Model(fixture));
        var gemm = model.Graph.Nodes.Last(n => n.Is("Gemm"));
        var bias = gemm.Inputs[2]!;
        var values = bias.Initializer!.ToArray<float>();
        var random = new Random(7);
        for (var i = 0; i < values.Length; i++)
        {
            values[i] += (float)(random.NextDouble() * 2 - 1) * scale * 10;
        }

        model.Graph.ReplaceInitializer(bias, Tensor.FromArray<float>(bias.Name, bias.Initializer.Dims.ToArray(), values));
        var path = temp.File(fixture + "-perturbed.onnx");
        ModelWriter.Save(model, path);
        return path;
    }

    private static int[] TopOne(string fixture, string model) =>
        Fixtures.DataSets(fixture).SelectMany(set => OrtRunner.ArgMax(OrtRunner.Run(model, Fixtures.Inputs(set))["logits"], 10)).ToArray();

    private static Tensor Concatenate(string fixture, string name)
    {
        var parts = Fixtures.DataSets(fixture).Select(s => Fixtures.Inputs(s)[0]).ToArray();
        var values = parts.SelectMany(p => p.ToArray<float>()).ToArray();
        long rows = parts.Sum(p => p.Dims[0]);
        return Tensor.FromArray<float>(name, [rows, .. parts[0].Dims.Skip(1)], values);
    }

    private static void WriteNpz(string fixture, string path) =>
        NpyWriter.Npz(path, Concatenate(fixture, "input"), Tensor.FromArray<long>("labels", [256], Fixtures.Labels(fixture).Select(l => (long)l).ToArray()));
}
