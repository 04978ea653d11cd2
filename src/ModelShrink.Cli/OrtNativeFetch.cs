using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace ModelShrink.Cli;

/// <summary>
/// Where the <c>modelshrink</c> tool finds ONNX Runtime's native library when it ships without one
/// (the tool package leaves out the seven platforms' natives, 162 MB packed): in the NuGet cache,
/// as the package Microsoft.ML.OnnxRuntime of the version the engine was built against. When the
/// cache lacks it, a throwaway project with a <c>PackageDownload</c> of that package is restored
/// once, through the user's own NuGet configuration, exactly as ModelShrink.Build's targets fetch it.
/// </summary>
public static class OrtNativeFetch
{
    /// <summary>The ONNX Runtime version the engine was built against (Directory.Packages.props).</summary>
    public static string Version { get; } =
        typeof(OrtNativeFetch).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "OnnxRuntimeVersion").Value!;

    /// <summary>The native library's file name on this operating system.</summary>
    public static string LibraryFile =>
        OperatingSystem.IsWindows() ? "onnxruntime.dll" : OperatingSystem.IsMacOS() ? "libonnxruntime.dylib" : "libonnxruntime.so";

    /// <summary>This machine's platform as NuGet's runtimes/ folders name it (linux-x64, win-arm64, osx-arm64...).</summary>
    public static string Platform =>
        (OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux") + "-" + RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();

    /// <summary>
    /// The folder holding the native library: the NuGet cache's copy, fetched first when missing
    /// (one line on <paramref name="log"/> says so); null when it cannot be had, with the reason on <paramref name="log"/>.
    /// </summary>
    public static string? Directory(TextWriter log)
    {
        var cached = InCache(DefaultPackageRoot());
        if (cached is not null)
        {
            return cached;
        }

        log.WriteLine($"modelshrink: fetching ONNX Runtime {Version} ({Platform} native library) into the NuGet cache; this happens once");
        var (root, problem) = Restore();
        var fetched = root is null ? null : InCache(root);
        if (fetched is null)
        {
            log.WriteLine($"modelshrink: could not fetch Microsoft.ML.OnnxRuntime {Version} for {Platform}: {problem ?? "the package has no native library for this platform"}");
        }

        return fetched;
    }

    // NuGet's global packages folder unless a nuget.config moves it (the restore below then finds it).
    private static string DefaultPackageRoot() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static string? InCache(string packageRoot)
    {
        var folder = Path.Combine(packageRoot, "microsoft.ml.onnxruntime", Version, "runtimes", Platform, "native");
        return File.Exists(Path.Combine(folder, LibraryFile)) ? folder : null;
    }

    // Restores a project that only downloads the package, and reads back NuGet's package root.
    private static (string? Root, string? Problem) Restore()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"modelshrink-ort-fetch-{Environment.ProcessId}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(folder);
        try
        {
            var rootFile = Path.Combine(folder, "package-root.txt");
            File.WriteAllText(Path.Combine(folder, "fetch.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>netstandard2.0</TargetFramework>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageDownload Include="Microsoft.ML.OnnxRuntime" Version="[{Version}]" />
                  </ItemGroup>
                  <Target Name="WritePackageRoot">
                    <WriteLinesToFile File="package-root.txt" Lines="$(NuGetPackageRoot)" Overwrite="true" />
                  </Target>
                </Project>
                """);
            var start = new ProcessStartInfo(DotnetHost(), ["msbuild", "fetch.csproj", "-restore", "-t:WritePackageRoot", "-nologo", "-v:q"])
            {
                WorkingDirectory = folder,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0 || !File.Exists(rootFile))
            {
                var lines = (stdout + stderr.Result).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return (null, $"dotnet restore failed: {lines.FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)) ?? lines.LastOrDefault() ?? "no output"}");
            }

            return (File.ReadAllText(rootFile).Trim(), null);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"could not start dotnet ({e.Message})");
        }
        finally
        {
            try
            {
                System.IO.Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
                // A temp folder left behind is harmless.
            }
        }
    }

    // The dotnet that runs this tool (DOTNET_HOST_PATH inside a build, else the runtime's own root), else PATH's.
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        // .../dotnet/shared/Microsoft.NETCore.App/10.0.x/ -> .../dotnet/dotnet
        var root = new DirectoryInfo(RuntimeEnvironment.GetRuntimeDirectory()).Parent?.Parent?.Parent;
        var muxer = root is null ? null : Path.Combine(root.FullName, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return muxer is not null && File.Exists(muxer) ? muxer : "dotnet";
    }
}
