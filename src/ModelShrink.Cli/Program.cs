using System.CommandLine;
using ModelShrink.Cli;
using ModelShrink.Cli.Commands;

var root = new RootCommand("ModelShrink: prune, quantize and validate ONNX models.")
{
    InspectCommand.Create(),
};

return CommandHost.Run(root, args);
