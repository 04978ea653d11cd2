using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests.Reliability;

/// <summary>
/// A seeded mutation fuzz test over the fixtures (see <see cref="ModelMutator"/>): every hostile
/// file ends in success or one coded error line, never a stack trace or an internal error, in
/// bounded time and managed memory; every success loads in ONNX Runtime, and the source file is
/// never changed. A failure names the case; <c>new ModelMutator(Seed, Fixtures.All).Case(i)</c> replays it.
/// Not run beside other classes: once, in a full-suite run, ONNX Runtime crashed the test host
/// (a segfault reading a type string) while sessions on hostile models opened in parallel with
/// other tests' sessions; every case run alone, each in its own process, ends with exit 0 or 1.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class MutationFuzzTests
{
    private const int Seed = 20261205;
    private const int CaseCount = 336; // 7 fixtures x 12 mutation kinds x 4
    private static readonly TimeSpan CaseTimeLimit = TimeSpan.FromSeconds(30);
    private const long CaseAllocationLimit = 1L << 30;
    private static readonly string[] Modes = ["none", "int8", "fp16", "int4"];
    private static readonly Regex CodedError = new(@"^.*: error MSH\d{4}: .+$|^error MSH\d{4}: .+$");

    [TestMethod]
    [Timeout(600_000, CooperativeCancellation = true)]
    public void EveryMutatedModelGivesSuccessOrOneCodedLineAndEverySuccessLoads()
    {
        using var temp = new TempDirectory();
        var mutator = new ModelMutator(Seed, Fixtures.All);
        var outcomes = new Dictionary<string, int>();
        foreach (var mutated in mutator.Cases(CaseCount))
        {
            var what = $"case {mutated.Index} ({mutated.Fixture}, {mutated.Mutation})";
            var source = temp.File($"case-{mutated.Index}.onnx");
            File.WriteAllBytes(source, mutated.Bytes);
            var output = temp.File($"case-{mutated.Index}.out.onnx");
            string[] args = mutated.Index % 5 == 4
                ? ["inspect", source]
                : ["compress", source, "-o", output, "--quantize", Modes[mutated.Index % Modes.Length]];

            var (result, elapsed, allocated) = Run(args, what);

            Assert.IsLessThan(CaseTimeLimit, elapsed, $"{what} took {elapsed}");
            Assert.IsLessThan(CaseAllocationLimit, allocated, $"{what} allocated {allocated} bytes");
            Assert.DoesNotContain("   at ", result.Stderr, $"{what}: a stack trace");
            Assert.DoesNotContain("MSH1000", result.Stderr, $"{what}: an internal error: {result.Stderr}");
            CollectionAssert.AreEqual(SHA256.HashData(mutated.Bytes), SHA256.HashData(File.ReadAllBytes(source)), $"{what}: the source changed");
            var errors = Lines(result.Stderr).Where(l => l.Contains(" error MSH", StringComparison.Ordinal) || l.StartsWith("error MSH", StringComparison.Ordinal)).ToArray();
            if (result.ExitCode == 0)
            {
                Assert.IsEmpty(errors, $"{what}: exit 0 with an error line: {result.Stderr}");
                if (args[0] == "compress")
                {
                    AssertLoads(output, what);
                }

                outcomes["success"] = outcomes.GetValueOrDefault("success") + 1;
            }
            else
            {
                Assert.AreEqual(1, result.ExitCode, $"{what}: exit {result.ExitCode}: {result.Stderr}");
                Assert.AreEqual("", result.Stdout, $"{what}: output on stdout with a failure");
                Assert.HasCount(1, Lines(result.Stderr), $"{what}: not one line: {result.Stderr}");
                Assert.MatchesRegex(CodedError, errors.Single(), what);
                Assert.IsFalse(File.Exists(output), $"{what}: failed but wrote its output");
                var code = Regex.Match(errors[0], @"MSH\d{4}").Value;
                outcomes[code] = outcomes.GetValueOrDefault(code) + 1;
            }

            Assert.IsEmpty(Directory.GetDirectories(temp.Path), $"{what}: a staging folder was left");
            File.Delete(source);
            File.Delete(output);
        }

        Console.WriteLine($"{CaseCount} cases: {string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}"))}");

        // The generator must reach both sides: a fuzz test where nothing parses proves little.
        Assert.IsGreaterThan(20, outcomes.GetValueOrDefault("success"), string.Join(", ", outcomes));
        Assert.IsGreaterThan(5, outcomes.Count, string.Join(", ", outcomes));
    }

    [TestMethod]
    public void TheGeneratorIsDeterministicForASeed()
    {
        var first = new ModelMutator(Seed, Fixtures.All).Cases(24).ToArray();
        var second = new ModelMutator(Seed, Fixtures.All).Cases(24).ToArray();

        for (var i = 0; i < first.Length; i++)
        {
            CollectionAssert.AreEqual(first[i].Bytes, second[i].Bytes, $"case {i}");
        }

        Assert.AreEqual(ModelMutator.MutationCount * Fixtures.All.Length, new ModelMutator(Seed, Fixtures.All).Cases(ModelMutator.MutationCount * Fixtures.All.Length).Select(c => (c.Fixture, c.Mutation)).Distinct().Count());
    }

    // In-process (a process per case would spend the time budget on start-up), on a worker thread
    // so a hang fails this case instead of the test run.
    private static (CliResult Result, TimeSpan Elapsed, long Allocated) Run(string[] args, string what)
    {
        var started = Stopwatch.GetTimestamp();
        var run = Task.Run(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var result = CliRunner.InProcess(args);
            return (result, GC.GetAllocatedBytesForCurrentThread() - before);
        });
        if (!run.Wait(CaseTimeLimit * 2))
        {
            Assert.Fail($"{what} hung");
        }

        return (run.Result.result, Stopwatch.GetElapsedTime(started), run.Result.Item2);
    }

    private static void AssertLoads(string output, string what)
    {
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
            using var session = new InferenceSession(output, options);
        }
        catch (OnnxRuntimeException e)
        {
            Assert.Fail($"{what}: written with exit 0 but ONNX Runtime cannot load it: {e.Message}");
        }
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
