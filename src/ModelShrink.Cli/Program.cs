using ModelShrink.Cli;

OrtNativeLibrary.Register();
using var interrupts = InterruptHandler.Install(Console.Error);
return CommandHost.Run(CliCommands.CreateRoot(), args);
