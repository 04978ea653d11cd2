using NetArchTest.Rules;

namespace ModelShrink.Architecture.Tests;

/// <summary>
/// The layers of DESIGN.md: Onnx &lt;- Core &lt;- Cli; the MSBuild task and the app-side Runtime stand
/// alone (they share only the declarations in src/Shared, compiled into each).
/// </summary>
[TestClass]
public sealed class LayerTests
{
    // Read from the files (Mono.Cecil), not loaded: the task's MSBuild assemblies are not in the test's folder.
    private const string Onnx = "ModelShrink.Onnx.dll";
    private const string Core = "ModelShrink.Core.dll";
    private const string Task = "ModelShrink.Build.Tasks.dll";
    private const string Runtime = "ModelShrink.Runtime.dll";

    [TestMethod]
    public void OnnxKnowsNoEngine() => AssertNone(Onnx, "ModelShrink.Core", "ModelShrink.Cli", "ModelShrink.Build", "ModelShrink.Runtime", "Microsoft.ML.OnnxRuntime");

    [TestMethod]
    public void CoreKnowsNoHost() => AssertNone(Core, "ModelShrink.Cli", "ModelShrink.Build", "ModelShrink.Runtime", "System.CommandLine", "Microsoft.Build");

    [TestMethod]
    public void TheTaskLoadsNeitherTheEngineNorOnnxRuntime() =>
        AssertNone(Task, "ModelShrink.Core", "ModelShrink.Onnx", "ModelShrink.Cli", "ModelShrink.Runtime", "Microsoft.ML.OnnxRuntime", "Google.Protobuf");

    [TestMethod]
    public void TheRuntimeKnowsNoEngine() => AssertNone(Runtime, "ModelShrink.Core", "ModelShrink.Onnx", "ModelShrink.Cli", "ModelShrink.Build");

    private static void AssertNone(string assembly, params string[] namespaces)
    {
        var types = Types.FromFile(Path.Combine(AppContext.BaseDirectory, assembly));
        Assert.IsGreaterThan(3, types.GetTypes().Count(), $"{assembly} was read");
        var result = types.ShouldNot().HaveDependencyOnAny(namespaces).GetResult();
        Assert.IsTrue(result.IsSuccessful,
            $"{assembly} depends on {string.Join(" or ", namespaces)}: {string.Join(", ", result.FailingTypeNames ?? [])}");
    }
}
