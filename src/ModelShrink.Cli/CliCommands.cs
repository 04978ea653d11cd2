using System.CommandLine;
using ModelShrink.Cli.Commands;

namespace ModelShrink.Cli;

/// <summary>The `modelshrink` command tree.</summary>
public static class CliCommands
{
    /// <summary>Builds the root command with every subcommand; <c>compress --help</c> is grouped (<see cref="Output.CompressHelp"/>).</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("ModelShrink: prune, quantize and validate ONNX models.")
        {
            InspectCommand.Create(),
            CompressCommand.Create(),
            ValidateCommand.Create(),
            BenchCommand.Create(),
            RunRequestCommand.Create(),
        };
        Output.CompressHelp.Install(root);
        return root;
    }
}
