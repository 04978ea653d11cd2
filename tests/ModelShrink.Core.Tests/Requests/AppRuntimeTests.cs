using ModelShrink.Core.Providers;
using ModelShrink.Core.Requests;

namespace ModelShrink.Core.Tests.Requests;

[TestClass]
public sealed class AppRuntimeTests
{
    [TestMethod]
    [DataRow("1.31.1", 23)]
    [DataRow("1.20.0", 21)]
    [DataRow("1.16.3", 19)]
    [DataRow("1.10.0", 15)]
    [DataRow("1.8.1", 14)]
    [DataRow("1.31.0-dev.1", 23)]
    public void TheOpsetCapFollowsTheAppsOnnxRuntimeRelease(string version, int opset) =>
        Assert.AreEqual(opset, AppRuntime.From(version, ["Microsoft.ML.OnnxRuntime"]).MaxOpset);

    [TestMethod]
    public void WithoutAReadableVersionTheEngineVersionIsAssumed()
    {
        var runtime = AppRuntime.From("$(OrtVersion)", []);

        Assert.IsNull(runtime.Version);
        Assert.AreEqual(AppRuntime.EngineVersion, runtime.EffectiveVersion);
        Assert.AreEqual(23, runtime.MaxOpset);
    }

    [TestMethod]
    public void MatMulNBitsNeedsOnnxRuntime117()
    {
        Assert.IsFalse(AppRuntime.From("1.16.3", []).SupportsMatMulNBits);
        Assert.IsTrue(AppRuntime.From("1.17.0", []).SupportsMatMulNBits);
    }

    [TestMethod]
    public void ProvidersNeedTheirRuntimePackages()
    {
        var cpuOnly = AppRuntime.From("1.31.1", ["Microsoft.ML.OnnxRuntime"]);
        var gpu = AppRuntime.From("1.31.1", ["Microsoft.ML.OnnxRuntime.Gpu.Linux"]);

        Assert.AreEqual("Microsoft.ML.OnnxRuntime.Gpu", cpuOnly.MissingPackageFor(ExecutionProvider.CUDA));
        Assert.AreEqual("Microsoft.ML.OnnxRuntime.DirectML", cpuOnly.MissingPackageFor(ExecutionProvider.DirectML));
        Assert.IsNull(cpuOnly.MissingPackageFor(ExecutionProvider.CPU));
        Assert.IsNull(gpu.MissingPackageFor(ExecutionProvider.CUDA));
        Assert.AreEqual("Microsoft.ML.OnnxRuntime", AppRuntime.From("", []).MissingPackageFor(ExecutionProvider.CPU));
    }
}
