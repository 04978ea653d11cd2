using ModelShrink.Core.Benchmarking;
using ModelShrink.Core.Gpu;
using ModelShrink.Core.Validation.Holdout;
using ModelShrink.Onnx.IO;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests.Gpu;

/// <summary>Where ONNX Runtime ran each node, read from its profile.</summary>
[TestClass]
public sealed class NodePlacementTests
{
    private const string Profile = """
        [
          {"cat":"Session","pid":1,"tid":1,"dur":50,"ts":1,"ph":"X","name":"model_loading_uri","args":{}},
          {"cat":"Node","pid":1,"tid":1,"dur":300,"ts":2,"ph":"X","name":"conv1_kernel_time","args":{"op_name":"Conv","provider":"CUDAExecutionProvider"}},
          {"cat":"Node","pid":1,"tid":1,"dur":10,"ts":3,"ph":"X","name":"conv1_fence_before","args":{"op_name":"Conv"}},
          {"cat":"Node","pid":1,"tid":1,"dur":100,"ts":4,"ph":"X","name":"shape_kernel_time","args":{"op_name":"Shape","provider":"CPUExecutionProvider"}},
          {"cat":"Node","pid":1,"tid":1,"dur":600,"ts":5,"ph":"X","name":"topk_kernel_time","args":{"op_name":"TopK","provider":"CPUExecutionProvider"}},
          {"cat":"Node","pid":1,"tid":1,"dur":0,"ts":6,"ph":"X","name":"conv1_kernel_time","args":{"op_name":"Conv","provider":"CUDAExecutionProvider"}},
          {"cat":"Node","pid":1,"tid":1,"dur":1000,"ts":7,"ph":"X","name":"Memcpy_token_1_kernel_time","args":{"op_name":"MemcpyToHost","provider":"CUDAExecutionProvider"}}
        ]
        """;

    [TestMethod]
    public void CpuNodesAndTheirShareOfKernelTimeAreCounted()
    {
        var placement = NodePlacement.FromProfile(Profile, "CUDAExecutionProvider");

        Assert.AreEqual(1, placement.OnProvider);
        CollectionAssert.AreEqual(new[] { "shape", "topk" }, placement.OnCpu.ToArray());
        Assert.AreEqual(1700 / 2000.0, placement.CpuShare, 1e-9, "the CPU nodes' 700 us and the 1000 us copy to them, of 2000 us");
        Assert.IsTrue(placement.MostlyOnCpu);
        Assert.AreEqual("1 node(s) on CUDAExecutionProvider, 2 on the CPU (85.0% of kernel time with the copies: shape, topk)", placement.Describe());
    }

    [TestMethod]
    public void ARealCpuProfileOfAFixturePlacesEveryNodeOnTheCpu()
    {
        var model = Fixtures.Model("digits-cnn");
        var batch = HoldoutReader.Open(Fixtures.DataSets("digits-cnn")[0], ModelSignature.Of(ModelReader.Load(model))).Batches().First();

        var placement = LatencyBenchmark.Place(model, batch, 1, RunProvider.CPU);

        // digits-cnn has 11 nodes; ONNX Runtime fuses Conv+Relu, so fewer kernels than nodes ran, all on the CPU.
        Assert.IsGreaterThanOrEqualTo(5, placement.OnProvider);
        Assert.IsLessThanOrEqualTo(11, placement.OnProvider);
        Assert.IsEmpty(placement.OnCpu);
        Assert.AreEqual(0, placement.CpuShare);
    }
}
