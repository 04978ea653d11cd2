using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace ModelShrink.Build.Tests;

/// <summary>
/// The scripts under build/ run in their minimal mode, so that a broken script or a benchmark that
/// times a failure fails CI. One at a time: they build samples/DigitsApp and share its output.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed partial class BenchmarkScriptTests
{
    // run-sample.sh packs the package the sample and the no-op benchmark restore; once per test run.
    // In the tests' own configuration, so it never rewrites the Release binaries other test assemblies run.
    private static readonly Lazy<ToolProcess.Result> Sample = new(() => Bash(new() { ["MODELSHRINK_PACK_CONFIGURATION"] = "E2E" }, "build/run-sample.sh"));

    [TestMethod]
    public void RunSampleCompressesTheSampleModelAndTheAppClassifiesTheHoldoutSet()
    {
        var result = Sample.Value;

        Assert.AreEqual(0, result.ExitCode, result.Output);
        StringAssert.Matches(result.Output, new Regex(@"ModelShrink: Models/digits-cnn\.onnx: 187\.21KB -> \d+\.\d+KB"));
        StringAssert.Matches(result.Output, new Regex(@"^accuracy: \d+/256 = \d+\.\d+% on the holdout set$", RegexOptions.Multiline));
    }

    [TestMethod]
    public void NoopRebuildBenchmarkInItsMinimalModePrintsTheRatioOfTwoPassingBuilds()
    {
        Assert.AreEqual(0, Sample.Value.ExitCode, "build/run-sample.sh failed:\n" + Sample.Value.Output);

        var result = Bash(null, "build/bench-noop-rebuild.sh", "1");

        Assert.AreEqual(0, result.ExitCode, result.Output);
        // The line the README quotes.
        StringAssert.Matches(result.Output, new Regex(@"^no-op rebuild, median of 1: with ModelShrink\.Build \d+ ms, without \d+ ms, ratio \d+\.\d\d$", RegexOptions.Multiline));
        Assert.DoesNotContain("error", result.Output);
    }

    [TestMethod]
    public void NoopRebuildBenchmarkFailsNamingTheBuildWhenTheBuildWithThePackageFails()
    {
        Assert.AreEqual(0, Sample.Value.ExitCode, "build/run-sample.sh failed:\n" + Sample.Value.Output);

        // An unknown provider (MSBuild reads environment variables as properties) fails the sample's build
        // with MSH3002; the copy without the package does not read it. The old script printed a ratio and exit 0.
        var result = Bash(new() { ["ModelShrinkProviders"] = "NoSuchProvider" }, "build/bench-noop-rebuild.sh", "1");

        Assert.AreEqual(1, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "error MSH3002: Models/digits-cnn.onnx: Providers: 'NoSuchProvider' is not one of CPU, CUDA, DirectML");
        StringAssert.Contains(result.Output, "bench-noop-rebuild: the with ModelShrink.Build warm-up build of samples/DigitsApp failed (exit 1)");
        Assert.DoesNotContain("ratio", result.Output);
    }

    [TestMethod]
    public void NoopRebuildBenchmarkRefusesARunCountThatIsNotAPositiveNumber()
    {
        var result = Bash(null, "build/bench-noop-rebuild.sh", "0");

        Assert.AreEqual(2, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "bench-noop-rebuild: RUNS must be a positive whole number, not '0'");
    }

    [TestMethod]
    public void TheCopyWithoutThePackageLosesItsReferenceAndEveryCompressModelItemAndKeepsTheRest()
    {
        // Multi-line, self-closing and with metadata elements: by line, sed left half of the first (MSB4067).
        using var folder = new ModelShrink.Testing.TempDirectory();
        var source = Path.Combine(folder.Path, "App.csproj");
        File.WriteAllText(source, """
            <Project Sdk="Microsoft.NET.Sdk">
              <ItemGroup>
                <PackageReference Include="ModelShrink.Build" Version="1.0.0" PrivateAssets="all" />
                <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.31.1" />
              </ItemGroup>
              <ItemGroup>
                <CompressModel Include="Models/a.onnx"
                               Quantize="Auto" MaxSizeRatio="0.5" />
                <CompressModel Include="Models/b.onnx">
                  <Quantize>Int8</Quantize>
                </CompressModel>
                <None Include="Data/holdout.csv" />
              </ItemGroup>
            </Project>
            """);
        var copy = Path.Combine(folder.Path, "Copy.csproj");

        var result = ToolProcess.Run("dotnet", PackageFeed.RepositoryRoot, null, null, "run", "build/bench-without-package.cs", "--", source, copy);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "removed 1 ModelShrink.Build PackageReference and 2 CompressModel item(s)");
        var project = XDocument.Load(copy);
        CollectionAssert.AreEqual(
            new[] { "PackageReference Microsoft.ML.OnnxRuntime", "None Data/holdout.csv" },
            project.Root!.Elements("ItemGroup").Elements().Select(e => $"{e.Name.LocalName} {e.Attribute("Include")?.Value}").ToArray());
        Assert.DoesNotContain("Quantize", File.ReadAllText(copy));

        // A project without the package cannot give a meaningful baseline: refused.
        var again = ToolProcess.Run("dotnet", PackageFeed.RepositoryRoot, null, null, "run", "build/bench-without-package.cs", "--", copy, Path.Combine(folder.Path, "Again.csproj"));
        Assert.AreEqual(1, again.ExitCode, again.Output);
        StringAssert.Contains(again.Output, "expected a ModelShrink.Build PackageReference and CompressModel items, found 0 and 0");
    }

    [TestMethod]
    public void BenchAutoQuickComparesEveryModeOnAFixtureWithTheEngineOfThePackage()
    {
        if (!OnPath("python3"))
        {
            Assert.Inconclusive("python3 is not installed, so build/bench_auto.py cannot run here (.ci/run installs it with apt-get where it can)");
        }

        // The engine the package ships, published by PackageFeed (this assembly builds no modelshrink.dll of its own).
        var engine = Path.Combine(PackageFeed.RepositoryRoot, "src/ModelShrink.Build.Tasks/obj/engine/E2E/modelshrink.dll");
        Assert.IsTrue(File.Exists(engine), engine);

        var result = ToolProcess.Run("python3", PackageFeed.RepositoryRoot, new Dictionary<string, string> { ["MODELSHRINK_CLI"] = engine }, null,
            "build/bench_auto.py", "--quick", "tests/fixtures/digits-mlp");

        Assert.AreEqual(0, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "**digits-mlp** (199 KB, --max-drop 0.01)");
        var rows = TableRow().Matches(result.Output).Select(m => m.Groups["mode"].Value).ToArray();
        Assert.HasCount(5, rows, result.Output);
        CollectionAssert.AreEqual(new[] { "Int8", "Int8 per tensor", "Int4", "Fp16" }, rows[..4], result.Output);
    }

    [TestMethod]
    public void LargeModelBenchmarkInItsMinimalModeTimesTwoCompressesThatWroteTheirModels()
    {
        if (!File.Exists("/usr/bin/time"))
        {
            Assert.Inconclusive("GNU time (/usr/bin/time) is not installed, so build/bench-large-model.sh cannot time its runs here (.ci/run installs it with apt-get where it can)");
        }

        using var folder = new ModelShrink.Testing.TempDirectory();
        var environment = new Dictionary<string, string>
        {
            ["MODELSHRINK_CLI"] = Path.Combine(PackageFeed.RepositoryRoot, "src/ModelShrink.Build.Tasks/obj/engine/E2E/modelshrink.dll"),
            ["MODELSHRINK_BENCHMARKS"] = Path.Combine(PackageFeed.RepositoryRoot, "tests/ModelShrink.Benchmarks/bin/Release/net10.0/ModelShrink.Benchmarks.dll"),
        };
        Assert.IsTrue(File.Exists(environment["MODELSHRINK_BENCHMARKS"]), "the solution's build makes the benchmarks");

        var result = Bash(environment, "build/bench-large-model.sh", "0.02", folder.Path);

        Assert.AreEqual(0, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "1 MatMul layers");
        StringAssert.Matches(result.Output, new Regex(@"compress --quantize int8\s+[\d.]+\s+\d+\s+64 out\.onnx"));

        // A compress that fails fails the script, naming the run (the old script printed "failed" and went on).
        File.WriteAllText(Path.Combine(folder.Path, "model.onnx.data"), "truncated");
        var broken = Bash(environment, "build/bench-large-model.sh", "0.02", folder.Path);
        Assert.AreNotEqual(0, broken.ExitCode, broken.Output);
        StringAssert.Contains(broken.Output, "compress --quantize none failed");
    }

    // A measured row: mode, size ratio, metric, drop, fits, latency ratio (a number: the bench ran), time.
    [GeneratedRegex(@"^\| (?<mode>[^|]+?) \| \d\.\d{3} \| \d\.\d{4} \| -?\d\.\d{4} \| (yes|no) \| \d+\.\d\d \| \d+\.\d \|$", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    private static ToolProcess.Result Bash(Dictionary<string, string>? environment, params string[] args) =>
        ToolProcess.Run("bash", PackageFeed.RepositoryRoot, environment, null, args);

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(folder => File.Exists(Path.Combine(folder, program)));
}
