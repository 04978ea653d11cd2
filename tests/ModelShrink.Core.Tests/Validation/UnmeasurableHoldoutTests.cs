using ModelShrink.Core.Budgets;
using ModelShrink.Core.Validation;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tensors;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Validation;

/// <summary>
/// Holdout data that cannot measure anything: NaN compares false with every limit, so a metric over
/// NaN used to pass any budget ("Cosine NaN"), and labels that match no class gave "Accuracy 0%
/// (original 0%)", a drop of zero. Each now gets its own code.
/// </summary>
[TestClass]
public sealed class UnmeasurableHoldoutTests
{
    [TestMethod]
    public void AllNanInputsFailWithMsh4006InsteadOfACosineOfNaN()
    {
        using var temp = new TempDirectory();
        var holdout = Directory.CreateDirectory(temp.File("holdout/test_data_set_0")).FullName;
        TensorFile.Write(Tensor.FromArray<float>("input", [32, 64], Enumerable.Repeat(float.NaN, 32 * 64).ToArray()), Path.Combine(holdout, "input_0.pb"));
        var folder = Path.GetDirectoryName(holdout)!;

        var e = Assert.ThrowsExactly<ModelShrinkException>(() => ModelComparer.Compare(Fixtures.Model("digits-mlp"), Fixtures.Model("digits-mlp"), folder));

        Assert.AreEqual("MSH4006", e.Diagnostic.Code);
        Assert.AreEqual(folder, e.Diagnostic.File);
        Assert.AreEqual("the original model gives 320 NaN or infinite values for output 'logits' on this data, so no metric can compare against it; check the holdout inputs", e.Diagnostic.Message);
    }

    [TestMethod]
    public void LabelsThatMatchNoClassFailWithMsh4007InsteadOfAZeroDrop()
    {
        using var temp = new TempDirectory();
        var folder = Directory.CreateDirectory(temp.File("holdout")).FullName;
        foreach (var set in Fixtures.DataSets("digits-mlp"))
        {
            HoldoutSets.CopyInto(set, folder);
        }

        File.WriteAllText(Path.Combine(folder, "labels.json"), $"{{\"labels\": [{string.Join(",", Enumerable.Repeat(-1, 256))}]}}");

        var e = Assert.ThrowsExactly<ModelShrinkException>(() => ModelComparer.Compare(Fixtures.Model("digits-mlp"), Fixtures.Model("digits-mlp"), folder));

        Assert.AreEqual("MSH4007", e.Diagnostic.Code);
        Assert.AreEqual("no label matches a class of output 'logits' (labels must lie in 0..9), so Accuracy cannot be measured; fix the labels or choose --metric Agreement", e.Diagnostic.Message);
    }

    [TestMethod]
    public void LabelsPartlyOutOfRangeStillScore()
    {
        // The control: one stray label is not "no label matches", and the run goes on.
        using var temp = new TempDirectory();
        var folder = Directory.CreateDirectory(temp.File("holdout")).FullName;
        foreach (var set in Fixtures.DataSets("digits-mlp"))
        {
            HoldoutSets.CopyInto(set, folder);
        }

        var labels = Fixtures.Labels("digits-mlp");
        labels[0] = -1;
        File.WriteAllText(Path.Combine(folder, "labels.json"), $"{{\"labels\": [{string.Join(",", labels)}]}}");

        var result = ModelComparer.Compare(Fixtures.Model("digits-mlp"), Fixtures.Model("digits-mlp"), folder);

        Assert.AreEqual(1L, result.Values.LabelsOutOfRange);
        Assert.IsGreaterThan(0.9, result.Value);
    }

    [TestMethod]
    public void CandidateGivingNanBreaksTheCosineBudgetWithMsh4008()
    {
        using var temp = new TempDirectory();
        var candidate = WithNanBias(temp);
        var holdout = Path.Combine(Fixtures.Root, "digits-mlp");
        var result = ModelComparer.Compare(Fixtures.Model("digits-mlp"), candidate, holdout, new ValidationOptions(Metric: ModelShrink.Core.Validation.Metrics.Metric.Cosine));

        var diagnostics = new AccuracyBudget(MaxDrop: 0.01, MinAgreement: null, MinCosine: 0.99).Check(result, candidate).ToArray();

        Assert.IsTrue(double.IsNaN(result.Value));
        CollectionAssert.AreEqual(new[] { "MSH4008", "MSH4100", "MSH4102" }, diagnostics.Select(d => d.Code).ToArray());
        Assert.IsTrue(diagnostics.All(d => d.Severity == DiagnosticSeverity.Error));
        Assert.AreEqual("the compressed model gives 2560 NaN or infinite values for output 'logits' on the holdout data, where the original's are finite", diagnostics[0].Message);
    }

    [TestMethod]
    public void CandidateGivingNanIsAWarningWhenNoBudgetIsSet()
    {
        using var temp = new TempDirectory();
        var candidate = WithNanBias(temp);
        var result = ModelComparer.Compare(Fixtures.Model("digits-mlp"), candidate, Path.Combine(Fixtures.Root, "digits-mlp"));

        var diagnostic = new AccuracyBudget(null, null, null).Check(result, candidate).Single();

        Assert.AreEqual("MSH4008", diagnostic.Code);
        Assert.AreEqual(DiagnosticSeverity.Warning, diagnostic.Severity);
    }

    [TestMethod]
    [Timeout(30_000, CooperativeCancellation = true)]
    public void FifoNamedNpyInAHoldoutFolderFailsWithMsh1015InsteadOfBlocking()
    {
        using var temp = new TempDirectory();
        var folder = Directory.CreateDirectory(temp.File("holdout")).FullName;
        var fifo = SpecialFiles.Fifo(Path.Combine(folder, "input.npy"));

        var compare = Task.Run(() => Assert.ThrowsExactly<ModelShrinkException>(() => ModelComparer.Compare(Fixtures.Model("digits-mlp"), Fixtures.Model("digits-mlp"), folder)));

        Assert.IsTrue(compare.Wait(TimeSpan.FromSeconds(10)), "reading the holdout blocked on a FIFO");
        Assert.AreEqual("MSH1015", compare.Result.Diagnostic.Code);
        Assert.AreEqual(fifo, compare.Result.Diagnostic.File);
    }

    // digits-mlp with its last bias NaN: every logit of every sample is NaN.
    private static string WithNanBias(TempDirectory temp)
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var bias = model.Graph.Nodes.Last(n => n.Is("Gemm")).Inputs[2]!;
        model.Graph.ReplaceInitializer(bias, Tensor.FromArray<float>(bias.Name, bias.Initializer!.Dims.ToArray(), Enumerable.Repeat(float.NaN, 10).ToArray()));
        var path = temp.File("nan.onnx");
        ModelWriter.Save(model, path);
        return path;
    }
}
