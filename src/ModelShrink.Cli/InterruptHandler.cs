using System.Runtime.InteropServices;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;
using ModelShrink.Onnx.IO;

namespace ModelShrink.Cli;

/// <summary>
/// SIGINT (Ctrl+C) and SIGTERM for the real process: instead of dying by the signal with a staging
/// folder of partial output left behind, the run removes its staging folders (after any publish in
/// progress completes, so an output is never half moved), prints one MSH1022 line and exits with the
/// shell's convention, 128 + the signal number: 130 for SIGINT, 143 for SIGTERM.
/// </summary>
public sealed class InterruptHandler : IDisposable
{
    /// <summary>Exit code after SIGINT (128 + 2).</summary>
    public const int SigintExit = 130;

    /// <summary>Exit code after SIGTERM (128 + 15).</summary>
    public const int SigtermExit = 143;

    private readonly PosixSignalRegistration[] registrations;
    private readonly TextWriter stderr;
    private int fired;

    private InterruptHandler(TextWriter stderr)
    {
        this.stderr = stderr;
        registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>Handles both signals until disposed; the coded line goes to <paramref name="stderr"/>.</summary>
    public static InterruptHandler Install(TextWriter stderr) => new(stderr);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var registration in registrations)
        {
            registration.Dispose();
        }
    }

    private void Handle(PosixSignalContext context)
    {
        // The process ends here, by Environment.Exit, not by the runtime's default for the signal.
        context.Cancel = true;
        if (Interlocked.Exchange(ref fired, 1) == 1)
        {
            return;
        }

        var (name, exit) = context.Signal == PosixSignal.SIGINT ? ("SIGINT", SigintExit) : ("SIGTERM", SigtermExit);
        lock (StagingFolder.PublishLock)
        {
            var unwritten = StagingFolder.RemoveAllLive();
            OutputLock.ReleaseAllLive();
            var diagnostic = unwritten.Count == 0
                ? new Diagnostic(ErrorCodes.Interrupted, $"interrupted by {name}; the run stopped")
                : new Diagnostic(ErrorCodes.Interrupted,
                    $"interrupted by {name}; the run stopped, its partial output was removed and nothing was written here (an earlier file at this path is unchanged)",
                    unwritten[0]);
            stderr.WriteLine(diagnostic);
            stderr.Flush();
            Environment.Exit(exit);
        }
    }
}
