namespace ModelShrink.Build.Tests;

/// <summary>Runs the real `dotnet` CLI in a clean environment (no variables inherited from the test host's MSBuild).</summary>
public static class DotnetCli
{
    /// <summary>Runs <c>dotnet ARGS</c> in <paramref name="directory"/>.</summary>
    public static ToolProcess.Result Run(string directory, params string[] args) => ToolProcess.Run("dotnet", directory, null, null, args);
}
