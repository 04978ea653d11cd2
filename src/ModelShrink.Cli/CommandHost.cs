using System.CommandLine;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Cli;

/// <summary>
/// Runs the command line with the tool's error contract: exit 0 on success; otherwise one coded
/// line on stderr and a non-zero exit, never a stack trace.
/// </summary>
public static class CommandHost
{
    /// <summary>Exit code for a coded error (bad input, broken budget).</summary>
    public const int ErrorExit = 1;

    /// <summary>Exit code for an internal failure (a bug: MSH1000).</summary>
    public const int InternalErrorExit = 3;

    /// <summary>Parses and runs <paramref name="args"/>; the return value is the process exit code.</summary>
    public static int Run(RootCommand root, string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            stderr.WriteLine(new Diagnostic(ErrorCodes.InvalidArgument,
                $"{string.Join("; ", parse.Errors.Select(e => e.Message))} (run 'modelshrink --help' for usage)"));
            return ErrorExit;
        }

        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (ModelShrinkException e)
        {
            foreach (var diagnostic in e.All)
            {
                stderr.WriteLine(diagnostic);
            }

            return ErrorExit;
        }
        catch (Exception e)
        {
            stderr.WriteLine(new Diagnostic(ErrorCodes.Internal, $"internal error ({e.GetType().Name}): {e.Message}"));
            return InternalErrorExit;
        }
    }
}
