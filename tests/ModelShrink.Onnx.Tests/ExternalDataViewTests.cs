using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Tests.Support;

namespace ModelShrink.Onnx.Tests;

/// <summary>External weights are viewed in their mapped file: the bytes of the file, without a copy.</summary>
[TestClass]
public sealed class ExternalDataViewTests
{
    [TestMethod]
    public void ExternalWeightsAreTheFilesBytesViewedWithoutACopy()
    {
        using var file = new ExternalDataModel();
        var model = ModelReader.Load(file.ModelPath);
        var external = model.Graph.Initializers.Select(v => v.Initializer!).Where(t => t.External is not null).ToArray();
        var data = File.ReadAllBytes(file.DataPath);
        var total = external.Sum(t => t.External!.Length);
        Assert.IsGreaterThan(100_000L, total, "the fixture should hold enough external bytes for a copy to show");

        external[0].GetRawData(); // maps the file once
        var before = GC.GetAllocatedBytesForCurrentThread();
        var views = external.Select(t => (Tensor: t, Bytes: t.GetRawData())).ToArray();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        foreach (var (tensor, bytes) in views)
        {
            var reference = tensor.External!;
            CollectionAssert.AreEqual(data.AsSpan((int)reference.Offset, (int)reference.Length).ToArray(), bytes.ToArray(), tensor.Name);
        }

        Assert.IsLessThan(total / 10, allocated, $"{allocated} bytes allocated to view {total} bytes of weights: they were copied");
    }
}
