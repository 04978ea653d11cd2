using System.Globalization;
using ModelShrink.Core.Compression;
using ModelShrink.Core.Passes.Pruning;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Pruning;

/// <summary>Accuracy over sparsity on the fixtures' holdouts (ONNX Runtime via ModelComparer): the table a search reads.</summary>
[TestClass]
public sealed class PruningSweepTests
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    [DataRow("digits-mlp")]
    [DataRow("digits-cnn")]
    public void MagnitudeAgreementFallsWithSparsityAndLowSparsityKeepsAtLeast99Percent(string fixture)
    {
        using var temp = new TempDirectory();

        var rows = Sweep(fixture, new PruneOptions(), temp);

        foreach (var row in rows.Where(r => r.Sparsity <= 0.3))
        {
            Assert.IsGreaterThanOrEqualTo(0.99, row.Agreement!.Value, $"sparsity {row.Sparsity}");
        }

        AssertMonotoneIsh(rows, tolerance: 0.01);
        Assert.IsLessThan(rows[0].Agreement!.Value, rows[^1].Agreement!.Value, "90% of the middle layers' weights do cost something");
        for (var i = 1; i < rows.Count; i++)
        {
            Assert.IsLessThanOrEqualTo(rows[i - 1].Bytes, rows[i].Bytes, "sparser is never larger on disk");
        }
    }

    [TestMethod]
    [DataRow("digits-mlp")]
    [DataRow("digits-cnn")]
    public void ChannelAgreementFallsWithSparsity(string fixture)
    {
        using var temp = new TempDirectory();

        var rows = Sweep(fixture, new PruneOptions { Method = PruneMethod.Channels }, temp);

        Assert.IsGreaterThanOrEqualTo(0.97, rows[0].Agreement!.Value, "10% of the channels");
        AssertMonotoneIsh(rows, tolerance: 0.02);
        Assert.IsLessThan(rows[0].Bytes, rows[^1].Bytes);
    }

    private IReadOnlyList<PruningSweepRow> Sweep(string fixture, PruneOptions prune, TempDirectory temp)
    {
        var rows = PruningSweep.Run(Fixtures.Model(fixture), Path.Combine(Fixtures.Root, fixture), prune, PruningSweep.DefaultLevels, temp.Path);
        TestContext.WriteLine($"{fixture} {prune.ModeText} (original accuracy {rows[0].OriginalAccuracy:P2}, {new FileInfo(Fixtures.Model(fixture)).Length} B)");
        TestContext.WriteLine("| sparsity | accuracy | agreement | cosine | bytes |");
        foreach (var row in rows)
        {
            TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {row.Sparsity:0.0} | {row.Accuracy:P2} | {row.Agreement:P2} | {row.Cosine:0.0000} | {row.Bytes} |"));
        }

        Assert.HasCount(9, rows);
        return rows;
    }

    // Sparser never agrees more than a denser level by more than the tolerance (a sample or two of noise).
    private static void AssertMonotoneIsh(IReadOnlyList<PruningSweepRow> rows, double tolerance)
    {
        for (var i = 0; i < rows.Count; i++)
        {
            for (var j = i + 1; j < rows.Count; j++)
            {
                Assert.IsLessThanOrEqualTo(rows[i].Agreement!.Value + tolerance, rows[j].Agreement!.Value, $"sparsity {rows[j].Sparsity} agrees more than {rows[i].Sparsity}");
            }
        }
    }
}
