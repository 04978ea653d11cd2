using System.Text.RegularExpressions;
using ModelShrink.Testing;

namespace ModelShrink.Cli.Tests;

/// <summary>
/// The CLI's error contract, checked on the real process: exit 1, one coded line on stderr naming
/// the file, no stack trace, nothing on stdout.
/// </summary>
[TestClass]
public sealed class CliErrorContractTests
{
    [TestMethod]
    [DataRow("empty", "MSH1002")]
    [DataRow("text", "MSH1003")]
    [DataRow("truncated", "MSH1004")]
    [DataRow("missing", "MSH1001")]
    public void BadModelFileGivesExitCode1AndOneCodedStderrLineFromTheRealProcess(string kind, string code)
    {
        using var temp = new TempDirectory();
        var path = BadFile(temp, kind);

        var result = CliRunner.Process("inspect", path);

        Assert.AreEqual(1, result.ExitCode, result.Stderr);
        Assert.AreEqual("", result.Stdout);
        AssertOneCodedLine(result.Stderr, path, code);
    }

    [TestMethod]
    public void BadModelFileGivesTheSameLineInProcess()
    {
        using var temp = new TempDirectory();
        var path = BadFile(temp, "truncated");

        var result = CliRunner.InProcess("inspect", path);

        Assert.AreEqual(1, result.ExitCode);
        Assert.AreEqual("", result.Stdout);
        AssertOneCodedLine(result.Stderr, path, "MSH1004");
        Assert.AreEqual($"{path}: error MSH1004: model file is truncated: a field's length runs past the end of the file{Environment.NewLine}", result.Stderr);
    }

    [TestMethod]
    public void UnknownOptionGivesExitCode1AndOneMsh1014Line()
    {
        var result = CliRunner.InProcess("inspect", Fixtures.Model("digits-mlp"), "--bogus");

        Assert.AreEqual(1, result.ExitCode);
        Assert.AreEqual("", result.Stdout);
        Assert.AreEqual(
            $"error MSH1014: Unrecognized command or argument '--bogus'. (run 'modelshrink --help' for usage){Environment.NewLine}",
            result.Stderr);
    }

    [TestMethod]
    public void EverySettingsProblemOfOneCompressInvocationIsReportedAtOnceEachOnItsOwnCodedLine()
    {
        using var temp = new TempDirectory();

        var result = CliRunner.InProcess("compress", Fixtures.Model("digits-mlp"), "-o", temp.File("out.onnx"),
            "--quantize", "int9", "--max-size", "big", "--min-cosine", "2");

        // As the build reports every bad metadata value of an item: all of them, not the first only.
        Assert.AreEqual(1, result.ExitCode);
        Assert.AreEqual("", result.Stdout);
        var lines = result.Stderr.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        CollectionAssert.AreEqual(new[] { "--quantize", "--max-size", "--min-cosine" },
            lines.Select(l => Regex.Match(l, @"^error MSH1014: (--[a-z-]+): '").Groups[1].Value).ToArray(), result.Stderr);
        Assert.IsFalse(Directory.EnumerateFileSystemEntries(temp.Path).Any(), "nothing written");
    }

    private static void AssertOneCodedLine(string stderr, string path, string code)
    {
        Assert.EndsWith(Environment.NewLine, stderr);
        var line = stderr[..^Environment.NewLine.Length];
        Assert.IsFalse(line.Contains('\n') || line.Contains('\r'), $"more than one line on stderr: {stderr}");
        Assert.MatchesRegex(new Regex($@"^{Regex.Escape(path)}: error MSH\d{{4}}: .+$"), line);
        Assert.StartsWith($"{path}: error {code}: ", line);
        Assert.DoesNotContain("   at ", stderr);
    }

    private static string BadFile(TempDirectory temp, string kind)
    {
        var path = temp.File("model.onnx");
        switch (kind)
        {
            case "empty":
                File.WriteAllBytes(path, []);
                break;
            case "text":
                File.WriteAllText(path, "this is a text file, not a model\n");
                break;
            case "truncated":
                var full = File.ReadAllBytes(Fixtures.Model("digits-mlp"));
                File.WriteAllBytes(path, full[..(full.Length / 2)]);
                break;
        }

        return path;
    }
}
