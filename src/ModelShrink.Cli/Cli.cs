using System.CommandLine;
using ModelShrink.Cli.Commands;

namespace ModelShrink.Cli;

/// <summary>The <c>modelshrink</c> command tree, built in one place for Program and for in-process tests.</summary>
public static class Cli
{
    /// <summary>Builds the root command with every subcommand.</summary>
    public static RootCommand CreateRootCommand() => new("ModelShrink: prune, quantize and validate ONNX models.")
    {
        InspectCommand.Create(),
    };
}
