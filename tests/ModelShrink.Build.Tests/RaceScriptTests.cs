using System.Text.Json;
using System.Text.RegularExpressions;

namespace ModelShrink.Build.Tests;

/// <summary>
/// build/race/race.py (the race with ONNX Runtime's quantization tool, run on the GPU machine) in its
/// minimal mode: our side of every job on a tiny MatMul and digits-cnn, with the engine the package
/// ships. Without onnxruntime (as here and in CI) the peer's rows say so and only ours is measured
/// and checked; the checks that stop the race on a bad run of ours are exercised with stand-in engines.
/// </summary>
[TestClass]
public sealed partial class RaceScriptTests
{
    [TestMethod]
    public void MinimalRaceRunsEveryJobOfOursAndWritesTheTableAndTheRawResults()
    {
        var python = PythonWithNumpyAndOnnx();
        using var folder = new ModelShrink.Testing.TempDirectory();
        var engine = Path.Combine(PackageFeed.RepositoryRoot, "src/ModelShrink.Build.Tasks/obj/engine/E2E/modelshrink.dll");
        Assert.IsTrue(File.Exists(engine), engine);

        var result = Race(python, folder, $"dotnet {engine}");

        Assert.AreEqual(0, result.ExitCode, result.Output);
        var table = File.ReadAllText(folder.File("out/race-results.md"));
        var rows = Row().Matches(table).Select(m => $"{m.Groups["model"].Value} {m.Groups["job"].Value}").ToArray();
        CollectionAssert.AreEqual(
            new[]
            {
                "matmul-tiny int8-per-tensor", "matmul-tiny int8-per-channel", "matmul-tiny int4", "matmul-tiny int8-static",
                "digits-cnn int8-per-tensor", "digits-cnn int8-per-channel", "digits-cnn int8-static", // no MatMul: no int4 job
            },
            rows, table);

        // The raw file holds every run: ours with its time, peak memory and the bytes it wrote.
        using var raw = JsonDocument.Parse(File.ReadAllText(folder.File("out/race-results.json")));
        var runs = raw.RootElement.GetProperty("models").EnumerateObject()
            .SelectMany(m => m.Value.GetProperty("jobs").EnumerateObject().Select(j => j.Value.GetProperty("ours")[0])).ToArray();
        Assert.HasCount(7, runs);
        foreach (var run in runs)
        {
            Assert.IsGreaterThan(0.0, run.GetProperty("seconds").GetDouble());
            Assert.IsGreaterThan(0.0, run.GetProperty("peak_rss_mib").GetDouble());
            Assert.IsGreaterThan(0L, run.GetProperty("bytes").GetInt64());
        }

        // What ours wrote for the last round stays for the scoring: int4 as MatMulNBits, a quarter of the
        // 256x256 float weight in 4 bits and its scales.
        var int4 = new FileInfo(folder.File("work/out/matmul-tiny/int4/ours/model.onnx"));
        Assert.IsTrue(int4.Exists);
        Assert.IsLessThan(0.25 * new FileInfo(folder.File("work/matmul-tiny/model.onnx")).Length, int4.Length);
    }

    [TestMethod]
    public void ARunOfOursThatFailsStopsTheRaceNamingTheJobAndTheEnginesError()
    {
        var python = PythonWithNumpyAndOnnx();
        using var folder = new ModelShrink.Testing.TempDirectory();
        var engine = StandIn(folder, """echo "model.onnx: error MSH1001: model file not found" >&2; exit 1""");

        var result = Race(python, folder, $"bash {engine}");

        Assert.AreEqual(1, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "race: ours int8-per-tensor on matmul-tiny failed (exit 1): model.onnx: error MSH1001: model file not found");
        Assert.IsFalse(File.Exists(folder.File("out/race-results.md")), "no table is written for a race that measured a failure");
    }

    [TestMethod]
    public void AnOutputOfOursThatIsNotQuantizedStopsTheRace()
    {
        var python = PythonWithNumpyAndOnnx();
        using var folder = new ModelShrink.Testing.TempDirectory();
        // Exits 0 having copied the float model: a race that timed it would compare a file copy with the peer.
        var engine = StandIn(folder, """cp "$2" "$4" """);

        var result = Race(python, folder, $"bash {engine}");

        Assert.AreEqual(1, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "race: ours int8-per-tensor on matmul-tiny wrote a model that is not quantized as the job asks: ops ['MatMul'], size 1.000 of the original (at most 0.4)");
    }

    [TestMethod]
    public void AnEngineThatDoesNotStartIsNamedBeforeAnyModelIsGenerated()
    {
        var python = PythonWithNumpyAndOnnx();
        using var folder = new ModelShrink.Testing.TempDirectory();

        var result = Race(python, folder, "dotnet " + folder.File("missing/modelshrink.dll"));

        Assert.AreEqual(1, result.ExitCode, result.Output);
        StringAssert.Contains(result.Output, "race: ours does not start: dotnet " + folder.File("missing/modelshrink.dll") + " --version exited");
        Assert.IsFalse(Directory.Exists(folder.File("work/matmul-tiny")));
    }

    private static ToolProcess.Result Race(string python, ModelShrink.Testing.TempDirectory folder, string cli) =>
        ToolProcess.Run(python, PackageFeed.RepositoryRoot, null, null,
            "build/race/race.py", "--minimal", "--cli", cli, "--work", folder.File("work"), "--out", folder.File("out"));

    // A stand-in engine: `--version` answers, `compress MODEL -o OUT ...` runs the given body.
    private static string StandIn(ModelShrink.Testing.TempDirectory folder, string compress)
    {
        var path = folder.File("engine.sh");
        File.WriteAllText(path, $"if [ \"$1\" = --version ]; then echo 0.0.0-stand-in; exit 0; fi\n{compress}\n");
        return path;
    }

    // race.py generates its models with numpy and onnx (Debian: python3-numpy, python3-onnx; .ci/run
    // installs them where it can). The first python3 that has both runs it.
    private static string PythonWithNumpyAndOnnx()
    {
        foreach (var candidate in new[] { "/usr/bin/python3", "python3" })
        {
            try
            {
                if (ToolProcess.Run(candidate, PackageFeed.RepositoryRoot, null, TimeSpan.FromMinutes(1), "-c", "import numpy, onnx").ExitCode == 0)
                {
                    return candidate;
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed under that name
            }
        }

        Assert.Inconclusive("no python3 with numpy and onnx here, so build/race/race.py cannot run (.ci/run installs python3-numpy and python3-onnx with apt-get where it can)");
        return "";
    }

    [GeneratedRegex(@"^\| (?<model>[\w-]+) \([^|]*\) \| (?<job>[\w-]+) \| onnxruntime not installed \| \d+\.\d\d \| - \| - / \d+ \| - / \d+\.\d\d \|", RegexOptions.Multiline)]
    private static partial Regex Row();
}
