using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests.Reliability;

/// <summary>
/// <c>compress -o</c> onto hostile paths: each refusal is one coded line naming the path the user
/// typed (never the hidden staging folder), and nothing is created or replaced.
/// </summary>
[TestClass]
public sealed class OutputPathTests
{
    [TestMethod]
    public void OutputOntoAFifoFailsWithMsh1016AndTheFifoStays()
    {
        using var temp = new TempDirectory();
        var fifo = SpecialFiles.Fifo(temp.File("out.onnx"));

        var result = Compress(fifo);

        AssertRefused(result, fifo, "MSH1016");
        Assert.IsTrue(SpecialFiles.IsFifo(fifo), "the FIFO was replaced by a regular file");
        CollectionAssert.AreEqual(new[] { fifo }, Directory.GetFileSystemEntries(temp.Path), "something was left beside the output");
    }

    [TestMethod]
    public void PublishRefusesAFifoWhereTheExternalDataGoesAndLeavesTheOldModelInPlace()
    {
        // The -o path itself passed its checks; the sibling the rename would replace is a FIFO.
        // External data moves first and the model last, so the old model is not replaced either.
        using var temp = new TempDirectory();
        var target = temp.File("out.onnx");
        File.WriteAllText(target, "old model");
        var fifo = SpecialFiles.Fifo(target + ".data");
        using var staging = ModelShrink.Onnx.IO.StagingFolder.Create(temp.Path, target, "--output");
        File.WriteAllText(staging.PathOf("out.onnx"), "new model");
        File.WriteAllText(staging.PathOf("out.onnx.data"), "new weights");

        var e = Assert.ThrowsExactly<ModelShrink.Onnx.Diagnostics.ModelShrinkException>(() => ModelShrink.Onnx.IO.StagedOutput.Publish(staging, target, target, "--output"));

        Assert.AreEqual("MSH1016", e.Diagnostic.Code);
        Assert.AreEqual(fifo, e.Diagnostic.File);
        Assert.IsTrue(SpecialFiles.IsFifo(fifo), "the FIFO was replaced");
        Assert.AreEqual("old model", File.ReadAllText(target));
    }

    [TestMethod]
    public void EmptyOutputPathFailsWithMsh1017()
    {
        var result = Compress("");

        Assert.AreEqual(1, result.ExitCode, result.Stderr);
        Assert.AreEqual($"error MSH1017: the output path is empty; name a file such as model.small.onnx (setting: --output){Environment.NewLine}", result.Stderr);
    }

    [TestMethod]
    public void EmptyModelPathFailsWithMsh1001AndCreatesNothing()
    {
        using var temp = new TempDirectory();

        var result = CliRunner.InProcess("compress", "", "-o", temp.File("out.onnx"));

        Assert.AreEqual(1, result.ExitCode, result.Stderr);
        Assert.AreEqual($"error MSH1001: model file path is empty or not a valid path{Environment.NewLine}", result.Stderr);
        Assert.IsEmpty(Directory.GetFileSystemEntries(temp.Path));
    }

    [TestMethod]
    public void ExistingFolderAsOutputFailsWithMsh1018AndTheFolderIsUntouched()
    {
        using var temp = new TempDirectory();
        var folder = Directory.CreateDirectory(temp.File("models")).FullName;
        File.WriteAllText(Path.Combine(folder, "keep.txt"), "keep");

        var result = Compress(folder);

        AssertRefused(result, folder, "MSH1018");
        CollectionAssert.AreEqual(new[] { Path.Combine(folder, "keep.txt") }, Directory.GetFileSystemEntries(folder));
    }

    [TestMethod]
    public void OutputUnderAFileFailsWithMsh1019NamingTheOutput()
    {
        using var temp = new TempDirectory();
        var file = temp.File("not-a-folder");
        File.WriteAllText(file, "x");
        var output = Path.Combine(file, "out.onnx");

        var result = Compress(output);

        AssertRefused(result, output, "MSH1019");
        Assert.AreEqual("x", File.ReadAllText(file));
    }

    [TestMethod]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void OutputInAReadOnlyFolderFailsWithMsh1019NamingTheOutputNotTheStagingFolder()
    {
        using var temp = new TempDirectory();
        var folder = Directory.CreateDirectory(temp.File("read-only")).FullName;
        // An ordinary user is stopped by the mode; root only by the immutable attribute (ext4, xfs...).
        var immutable = SpecialFiles.IsRoot;
        if (!immutable)
        {
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }
        else if (!SpecialFiles.Run("chattr", "+i", folder))
        {
            Assert.Inconclusive("root, and no immutable attribute on this file system: cannot make a folder read-only here");
        }

        try
        {
            var output = Path.Combine(folder, "out.onnx");

            var result = Compress(output);

            AssertRefused(result, output, "MSH1019");
            Assert.Contains($"cannot write into the output's folder '{folder}': permission denied", result.Stderr);
        }
        finally
        {
            if (immutable)
            {
                SpecialFiles.Run("chattr", "-i", folder);
            }
            else
            {
                File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
    }

    [TestMethod]
    [DataRow("/proc/modelshrink-test.onnx", DisplayName = "/proc")]
    [DataRow("/sys/modelshrink-test.onnx", DisplayName = "/sys")]
    public void OutputInAKernelFolderFailsWithMsh1020(string output)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Inconclusive("Linux paths");
        }

        var result = Compress(output);

        AssertRefused(result, output, "MSH1020");
        Assert.IsFalse(File.Exists(output));
    }

    [TestMethod]
    public void SecondRunOnTheSameOutputFailsWithMsh1021WhileTheFirstHoldsIt()
    {
        using var temp = new TempDirectory();
        var output = temp.File("out.onnx");
        File.WriteAllText(output, "the first run's file");
        // What a first run holds for its whole length (taken here in-process, where flock still excludes).
        using (var first = ModelShrink.Onnx.IO.OutputLock.Acquire(output, output, "--output"))
        {
            var result = Compress(output);

            AssertRefused(result, output, "MSH1021");
            Assert.Contains("another modelshrink run is writing this output; wait for it to finish or choose another path", result.Stderr);
            Assert.AreEqual("the first run's file", File.ReadAllText(output));
        }

        // Released: the next run goes ahead, and leaves no lock file behind.
        var after = Compress(output);
        Assert.AreEqual(0, after.ExitCode, after.Stderr);
        CollectionAssert.AreEqual(new[] { output }, Directory.GetFileSystemEntries(temp.Path));
    }

    [TestMethod]
    public void StagingFoldersOfDeadRunsAreRemovedAndThoseOfLiveRunsKept()
    {
        using var temp = new TempDirectory();
        var dead = Staging(temp, "dead", $"{DeadProcessId()} {DateTime.UtcNow.Ticks}");
        var reused = Staging(temp, "reused-pid", $"{Environment.ProcessId} {DateTime.UtcNow.AddDays(-1).Ticks}");
        var live = Staging(temp, "live", $"{Environment.ProcessId} {System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime().Ticks}");
        var oldOwnerless = Staging(temp, "old-ownerless", null);
        Directory.SetLastWriteTimeUtc(oldOwnerless, DateTime.UtcNow.AddHours(-2));
        var newOwnerless = Staging(temp, "new-ownerless", null);

        var result = Compress(temp.File("out.onnx"));

        Assert.AreEqual(0, result.ExitCode, result.Stderr);
        Assert.IsFalse(Directory.Exists(dead), "a dead run's staging folder stayed");
        Assert.IsFalse(Directory.Exists(reused), "a folder whose pid now belongs to another process stayed");
        Assert.IsFalse(Directory.Exists(oldOwnerless), "an old folder without an owner stayed");
        Assert.IsTrue(Directory.Exists(live), "a live run's staging folder was removed");
        Assert.IsTrue(Directory.Exists(newOwnerless), "a folder being created right now was removed");
    }

    internal static CliResult Compress(string output, params string[] more) =>
        CliRunner.InProcess(["compress", Fixtures.Model("digits-mlp"), "-o", output, .. more]);

    internal static void AssertRefused(CliResult result, string output, string code)
    {
        Assert.AreEqual(1, result.ExitCode, result.Stderr);
        Assert.AreEqual("", result.Stdout);
        Assert.StartsWith($"{output}: error {code}: ", result.Stderr);
        Assert.EndsWith($"(setting: --output){Environment.NewLine}", result.Stderr);
        Assert.AreEqual(1, result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, result.Stderr);
        Assert.DoesNotContain(".modelshrink-staging-", result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    private static string Staging(TempDirectory temp, string name, string? owner)
    {
        var folder = Directory.CreateDirectory(temp.File($".modelshrink-staging-{name}")).FullName;
        File.WriteAllText(Path.Combine(folder, "model.onnx"), "partial");
        if (owner is not null)
        {
            File.WriteAllText(Path.Combine(folder, ".owner"), owner);
        }

        return folder;
    }

    // The id of a process that has exited (ids are reused only much later).
    private static int DeadProcessId()
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }
}
