using System.Diagnostics;

namespace ModelShrink.Build.Tests;

/// <summary>Runs a program (dotnet, bash, python3) in a clean environment: no variables inherited from the test host's MSBuild.</summary>
public static class ToolProcess
{
    /// <summary>The outcome of one command: its exit code and its stdout followed by its stderr.</summary>
    public sealed record Result(int ExitCode, string Output);

    /// <summary>
    /// Runs <paramref name="program"/> with <paramref name="args"/> in <paramref name="directory"/>, with
    /// <paramref name="environment"/> added; a run past <paramref name="timeout"/> (default 10 minutes) is
    /// killed and fails the test, so a hung benchmark never hangs CI.
    /// </summary>
    public static Result Run(string program, string directory, IReadOnlyDictionary<string, string>? environment, TimeSpan? timeout, params string[] args)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // The test host runs under `dotnet test`, whose MSBuild variables would leak into a child build.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToArray())
        {
            start.Environment.Remove(name);
        }

        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(10)))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{program} {string.Join(' ', args)} ran past {timeout ?? TimeSpan.FromMinutes(10)}:\n{stdout.Result}{stderr.Result}");
        }

        return new Result(process.ExitCode, stdout.Result + stderr.Result);
    }
}
