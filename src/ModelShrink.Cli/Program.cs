using ModelShrink.Cli;

return CommandHost.Run(CliCommands.CreateRoot(), args);
