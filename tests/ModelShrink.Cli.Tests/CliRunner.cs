using System.Diagnostics;

namespace ModelShrink.Cli.Tests;

/// <summary>What one run of <c>modelshrink</c> gave.</summary>
internal sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>Runs <c>modelshrink</c> in-process through <see cref="CommandHost"/>, or as the real process.</summary>
internal static class CliRunner
{
    // A guard against a hung child, not a speed check: speed goals live in benchmarks.
    private const int HangGuardMilliseconds = 120_000;

    public static CliResult InProcess(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var exitCode = CommandHost.Run(CliCommands.CreateRoot(), args, stdout, stderr);
        return new CliResult(exitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs <c>dotnet modelshrink.dll ARGS</c>, the CLI assembly copied beside this test assembly.</summary>
    public static CliResult Process(params string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "modelshrink.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(start) ?? throw new AssertFailedException("could not start dotnet");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(HangGuardMilliseconds))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("modelshrink did not exit");
        }

        process.WaitForExit();
        return new CliResult(process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    // The dotnet host running these tests (the SDK sets DOTNET_HOST_PATH), else the one on PATH.
    internal static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
    }
}
