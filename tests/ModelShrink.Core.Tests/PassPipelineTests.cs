using ModelShrink.Core.Passes;
using ModelShrink.Core.Passes.Reconstruction;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
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

    [TestMethod]
    public void APipelineWhosePassNeedsDataNoEarlierPassProvidesFailsWhenBuilt()
    {
        var error = Assert.ThrowsExactly<InvalidOperationException>(() =>
            new PassPipeline([new CountNodes(), new BiasCorrectionPass(new BiasCorrectionOptions("data")), new TeacherSnapshotPass()]));

        Assert.AreEqual("pipeline order: pass 'bias-correction' requires the teacher model (the model before pruning and quantization), which no pass before it provides (passes before it: count-nodes)", error.Message);
        _ = new PassPipeline([new TeacherSnapshotPass(), new BiasCorrectionPass(new BiasCorrectionOptions("data"))]);
    }

    [TestMethod]
    public void APassReadsAndWritesOnlyTheDataItDeclares()
    {
        var model = ModelReader.Load(Fixtures.Model("digits-mlp"));
        using var context = new PassContext("digits-mlp.onnx");

        var records = new PassPipeline([new TeacherSnapshotPass(), new ReadsTeacher(declared: true)]).Run(model, context);
        Assert.AreEqual(1L, records[1].Result.Counters["teacher nodes"] > 0 ? 1L : 0L, "the declared reader got the teacher");

        var error = Assert.ThrowsExactly<ModelShrinkException>(() => new PassPipeline([new TeacherSnapshotPass(), new ReadsTeacher(declared: false)]).Run(model, context));
        StringAssert.Contains(error.Diagnostic.Message, "pass 'reads-teacher' reads the teacher model");
        StringAssert.Contains(error.Diagnostic.Message, "without declaring it in Requires or Uses");
    }

    private sealed class ReadsTeacher(bool declared) : IPass
    {
        public string Name => "reads-teacher";

        public IReadOnlyList<PassData> Uses => declared ? [SharedPassData.Teacher] : [];

        public PassResult Run(Model model, PassContext context) =>
            PassResult.FromCounters(new Dictionary<string, long> { ["teacher nodes"] = context.Get(SharedPassData.Teacher)!.Load("m").Graph.Nodes.Count });
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
