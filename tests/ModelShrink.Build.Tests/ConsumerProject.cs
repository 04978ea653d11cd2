using System.Security;
using ModelShrink.Testing;

namespace ModelShrink.Build.Tests;

/// <summary>A throwaway app project that references the packed ModelShrink.Build.</summary>
public sealed class ConsumerProject : IDisposable
{
    private readonly TempDirectory folder = new();

    /// <summary>Creates the project with <paramref name="items"/> inside an ItemGroup.</summary>
    public ConsumerProject(string items, string properties = "")
    {
        File.WriteAllText(Path.Combine(Directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="e2e" value="{SecurityElement.Escape(PackageFeed.Folder)}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(ProjectFile, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                {properties}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="ModelShrink.Build" Version="{PackageFeed.Version}" PrivateAssets="all" />
                <PackageReference Include="Microsoft.ML.OnnxRuntime" Version="1.31.1" />
                {items}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(Directory, "Program.cs"), "System.Console.WriteLine(\"app\");\n");
        System.IO.Directory.CreateDirectory(Path.Combine(Directory, "Models"));
    }

    /// <summary>The project's folder.</summary>
    public string Directory => folder.Path;

    /// <summary>The .csproj path.</summary>
    public string ProjectFile => Path.Combine(Directory, "App.csproj");

    /// <summary>The Debug build output folder.</summary>
    public string Output => Path.Combine(Directory, "bin", "Debug", "net10.0");

    /// <summary>Copies a fixture model into Models/.</summary>
    public string AddModel(string fixture, string name)
    {
        var path = Path.Combine(Directory, "Models", name);
        File.Copy(Fixtures.Model(fixture), path, overwrite: true);
        return path;
    }

    /// <summary>Runs <c>dotnet build</c> (normal verbosity, so the per-model summary lines show).</summary>
    public ToolProcess.Result Build(params string[] extra) => DotnetCli.Run(Directory, ["build", "-v:n", "-nologo", .. extra]);

    /// <summary>Runs another dotnet command on the project.</summary>
    public ToolProcess.Result Dotnet(params string[] args) => DotnetCli.Run(Directory, args);

    /// <inheritdoc />
    public void Dispose() => folder.Dispose();
}
