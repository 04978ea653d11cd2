using ModelShrink.Core.Search;
using ModelShrink.Core.Requests;
using ModelShrink.Core.Plans;
using ModelShrink.Core.Budgets;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Gpu;
using ModelShrink.Core.Validation;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Gpu;

/// <summary>
/// The CUDA variant's choice by measurement, run here on the CPU provider (the choice does not depend
/// on which provider measured): every candidate validated and timed, the fastest within the budgets.
/// </summary>
[TestClass]
public sealed class GpuVariantChoiceTests
{
    [TestMethod]
    public void Fp16Int4AndFloat32AreMeasuredAndTheFastestWithinTheBudgetsIsChosen()
    {
        using var temp = new TempDirectory();
        var data = Path.Combine(Fixtures.Root, "digits-transformer");
        var settings = new JobSettings(new CompressionOptions(), new SizeBudget(null, null), new AccuracyBudget(0.01, null, null), data, new ValidationOptions());

        var choice = GpuVariantChoice.Choose(Fixtures.Model("digits-transformer"), temp.Path, settings, "t", default, null, RunProvider.CPU);

        CollectionAssert.AreEqual(new[] { QuantizeMode.Fp16, QuantizeMode.Int4, QuantizeMode.None }, choice.Candidates.Select(c => c.Mode).ToArray());
        Assert.IsTrue(choice.Candidates.All(c => c.Result.Validation is not null && c.Latency.Baseline is not null));
        Assert.IsTrue(choice.Chosen.Fits);
        var fastest = choice.Candidates.Where(c => c.Fits).Min(c => c.Latency.Model.MedianMs);
        Assert.IsLessThanOrEqualTo(fastest * GpuVariantChoice.TieRatio, choice.Chosen.Latency.Model.MedianMs);
        StringAssert.StartsWith(choice.Reason, $"CUDA variant {choice.Chosen.Mode}: the fastest within the budgets on CPUExecutionProvider (Fp16 ");
        var rows = GpuReport.Rows(choice);
        Assert.AreEqual(1, rows.Count(r => r.Chosen));
        Assert.IsTrue(rows.All(r => r.ValidatedOn == "CPUExecutionProvider"));
    }

    [TestMethod]
    public void AModelWithoutMatMulWeightsIsNotOfferedInt4()
    {
        using var temp = new TempDirectory();
        var settings = new JobSettings(new CompressionOptions(), new SizeBudget(null, null), new AccuracyBudget(null, null, null), null, new ValidationOptions());

        var choice = GpuVariantChoice.Choose(Fixtures.Model("digits-cnn"), temp.Path, settings, "c", default, null, RunProvider.CPU);

        CollectionAssert.AreEqual(new[] { QuantizeMode.Fp16, QuantizeMode.None }, choice.Candidates.Select(c => c.Mode).ToArray());
    }
}
