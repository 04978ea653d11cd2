using System.Diagnostics;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests.Reliability;

/// <summary>
/// SIGINT and SIGTERM on the real process, mid-run: one MSH1022 line, the shell's exit code
/// (128 + signal), the staging folder and lock file removed, nothing at the output path.
/// </summary>
[TestClass]
public sealed class SignalTests
{
    [TestMethod]
    [DataRow("INT", 130)]
    [DataRow("TERM", 143)]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void SignalMidRunRemovesTheStagingFolderAndExitsWithOneCodedLine(string signal, int exitCode)
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Inconclusive("POSIX signals");
        }

        using var temp = new TempDirectory();
        // Big enough (64 MB, a few hundred ms of work) that the signal lands while the run is staging.
        var source = GeneratedModels.WriteMatMulChain(temp.File("model.onnx"), 4096);
        var output = temp.File("out.onnx");
        File.WriteAllText(output, "the previous output");
        using var process = Start("compress", source, "-o", output, "--quantize", "int8");
        var stderr = process.StandardError.ReadToEndAsync();

        Assert.IsTrue(WaitFor(() => Directory.GetDirectories(temp.Path, ".modelshrink-staging-*").Length > 0 || process.HasExited), "no staging folder appeared");
        Assert.IsFalse(process.HasExited, "the run ended before the signal; it is too fast for this test");
        Kill(process.Id, signal);
        Assert.IsTrue(process.WaitForExit(60_000), "the process did not exit after the signal");

        Assert.AreEqual(exitCode, process.ExitCode, stderr.Result);
        Assert.AreEqual(
            $"{output}: error MSH1022: interrupted by SIG{signal}; the run stopped, its partial output was removed and nothing was written here (an earlier file at this path is unchanged){Environment.NewLine}",
            stderr.Result);
        Assert.AreEqual("the previous output", File.ReadAllText(output));
        CollectionAssert.AreEquivalent(new[] { source, output }, Directory.GetFileSystemEntries(temp.Path), "staging or lock files were left");
    }

    private static Process Start(params string[] args)
    {
        var start = new ProcessStartInfo(CliRunner.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "modelshrink.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        return process;
    }

    private static bool WaitFor(Func<bool> condition)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 60;
        while (Stopwatch.GetTimestamp() < until)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(2);
        }

        return false;
    }

    private static void Kill(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.AreEqual(0, kill.ExitCode, "kill failed");
    }
}
