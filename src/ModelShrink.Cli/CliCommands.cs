using System.CommandLine;
using ModelShrink.Cli.Commands;

namespace ModelShrink.Cli;

/// <summary>The `modelshrink` command tree.</summary>
public static class CliCommands
{
    /// <summary>Builds the root command with every subcommand.</summary>
    public static RootCommand CreateRoot() => new("ModelShrink: prune, quantize and validate ONNX models.")
    {
        InspectCommand.Create(),
        CompressCommand.Create(),
        ValidateCommand.Create(),
        BenchCommand.Create(),
        RunRequestCommand.Create(),
    };
}
