using ModelShrink.Cli;

OrtNativeLibrary.Register();
return CommandHost.Run(CliCommands.CreateRoot(), args);
