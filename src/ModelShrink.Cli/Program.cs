using ModelShrink.Cli;

return CommandHost.Run(Cli.CreateRootCommand(), args);
