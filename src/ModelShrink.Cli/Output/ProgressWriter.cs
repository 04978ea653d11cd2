using System.CommandLine;

namespace ModelShrink.Cli.Output;

/// <summary>
/// Progress of long work as lines on stderr ("validating: 3/8 batches, ..."), never on stdout, so
/// --json output stays one document. On by --progress, or when stderr is a terminal. The build's
/// run-request writes the same lines to stdout after <c>prefix</c>, where the MSBuild task picks them up.
/// </summary>
public sealed class ProgressWriter(TextWriter writer, string prefix = "") : IProgress<string>
{
    private readonly Lock gate = new();

    /// <summary>--progress.</summary>
    public static Option<bool> Option() => new("--progress")
    {
        Description = "Print progress lines on stderr (default: only when stderr is a terminal).",
    };

    /// <summary>A writer when --progress is given or stderr is the console's and a terminal; else null (no progress).</summary>
    public static ProgressWriter? For(ParseResult parse, Option<bool> option)
    {
        var stderr = parse.InvocationConfiguration.Error;
        var terminal = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected;
        return parse.GetValue(option) || terminal ? new ProgressWriter(stderr) : null;
    }

    /// <inheritdoc />
    public void Report(string value)
    {
        lock (gate)
        {
            writer.WriteLine(prefix + value);
            writer.Flush();
        }
    }
}
