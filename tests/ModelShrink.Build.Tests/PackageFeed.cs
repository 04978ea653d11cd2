using ModelShrink.Testing;

namespace ModelShrink.Build.Tests;

/// <summary>
/// The ModelShrink.Build, ModelShrink.Runtime and ModelShrink.Cli packages, packed once per test run into a
/// temporary feed under a unique prerelease version (so the NuGet cache never serves a stale copy).
/// </summary>
[TestClass]
public static class PackageFeed
{
    private static TempDirectory? feed;

    /// <summary>The folder holding the packed .nupkg files.</summary>
    public static string Folder => feed?.Path ?? throw new InvalidOperationException("the feed was not packed");

    /// <summary>The version the packages were packed with.</summary>
    public static string Version { get; private set; } = "";

    /// <summary>What <c>dotnet pack</c> printed, by project folder (src/ModelShrink.Runtime ...).</summary>
    public static IReadOnlyDictionary<string, string> PackOutput => packOutput;

    private static readonly Dictionary<string, string> packOutput = [];

    /// <summary>The .nupkg of <paramref name="id"/> in the feed.</summary>
    public static string Package(string id) => Path.Combine(Folder, $"{id}.{Version}.nupkg");

    /// <summary>The repository root (where ModelShrink.Build.sln is).</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ModelShrink.Build.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("ModelShrink.Build.sln not found above the test assembly");
        }
    }

    [AssemblyInitialize]
    public static void Pack(TestContext context)
    {
        feed = new TempDirectory();
        Version = $"0.1.0-e2e.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        // A configuration of its own, so packing never rewrites the Release/Debug binaries that
        // other test assemblies have loaded right now.
        foreach (var project in new[] { "src/ModelShrink.Build.Tasks", "src/ModelShrink.Runtime", "src/ModelShrink.Cli" })
        {
            var result = DotnetCli.Run(RepositoryRoot, "pack", project, "-c", "E2E", "-p:Version=" + Version, "-o", feed.Path, "-nologo");
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"dotnet pack {project} failed:\n{result.Output}");
            }

            packOutput[project] = result.Output;
        }
    }

    [AssemblyCleanup]
    public static void Delete() => feed?.Dispose();
}
