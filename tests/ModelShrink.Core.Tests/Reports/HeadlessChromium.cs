using System.Diagnostics;

namespace ModelShrink.Core.Tests.Reports;

/// <summary>Debian's chromium, run headless to load a page and print the DOM it built (<c>--dump-dom</c>).</summary>
internal static class HeadlessChromium
{
    // A guard against a hung browser, not a speed check.
    private const int HangGuardMilliseconds = 120_000;

    /// <summary>The browser: MODELSHRINK_CHROMIUM, else /usr/bin/chromium or /usr/bin/chromium-browser; null when none is installed.</summary>
    public static string? Find()
    {
        var candidates = new[] { Environment.GetEnvironmentVariable("MODELSHRINK_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser" };
        return candidates.FirstOrDefault(p => !string.IsNullOrEmpty(p) && File.Exists(p));
    }

    /// <summary>The version line the browser prints.</summary>
    public static string Version(string browser) => Run(browser, ["--version"], Path.GetTempPath()).Stdout.Trim();

    /// <summary>Loads <paramref name="htmlFile"/> with a fresh profile in <paramref name="profile"/> and returns the serialized DOM.</summary>
    public static string DumpDom(string browser, string htmlFile, string profile)
    {
        Directory.CreateDirectory(profile);
        var result = Run(browser,
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}", "--dump-dom", new Uri(htmlFile).AbsoluteUri,
        ], profile);
        if (result.ExitCode != 0 || !result.Stdout.Contains("</html>", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"chromium exited with {result.ExitCode} and no DOM; stderr ends with:\n{Tail(result.Stderr)}");
        }

        return result.Stdout;
    }

    private static (int ExitCode, string Stdout, string Stderr) Run(string browser, string[] args, string workingDirectory)
    {
        var start = new ProcessStartInfo(browser)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new AssertFailedException($"could not start {browser}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(HangGuardMilliseconds))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{browser} did not exit");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    private static string Tail(string text) => text.Length <= 3000 ? text : text[^3000..];
}
