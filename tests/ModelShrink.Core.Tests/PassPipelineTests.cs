using ModelShrink.Core.Passes;
using ModelShrink.Diagnostics;
using ModelShrink.Onnx.IO;
using ModelShrink.Onnx.Ir;
using ModelShrink.Testing;

namespace ModelShrink.Core.Tests;

[TestClass]
public sealed class PassPipelineTests
{
    [TestMethod]
    public void AFailingPassIsNamedWithThePassesBeforeIt()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        var pipeline = new PassPipeline([new CountNodes(), new Throws()]);

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => pipeline.Run(model, new PassContext("digits-mlp.onnx")));

        Assert.AreEqual(ErrorCodes.PassFailed, error.Diagnostic.Code);
        Assert.AreEqual("digits-mlp.onnx", error.Diagnostic.File);
        StringAssert.Contains(error.Diagnostic.Message, "pass 'throws' failed (InvalidOperationException: boom)");
        StringAssert.Contains(error.Diagnostic.Message, "passes run before it: count-nodes");
    }

    [TestMethod]
    public void RecordsCarryEachPassCounters()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));

        var records = new PassPipeline([new CountNodes()]).Run(model, new PassContext("m"));

        Assert.HasCount(1, records);
        Assert.AreEqual("count-nodes", records[0].Pass);
        Assert.AreEqual(5L, records[0].Result.Counters["nodes"]);
    }

    private sealed class CountNodes : IPass
    {
        public string Name => "count-nodes";

        public PassResult Run(Model model, PassContext context) =>
            new(false, new Dictionary<string, long> { ["nodes"] = model.Graph.Nodes.Count });
    }

    private sealed class Throws : IPass
    {
        public string Name => "throws";

        public PassResult Run(Model model, PassContext context) => throw new InvalidOperationException("boom");
    }
}
