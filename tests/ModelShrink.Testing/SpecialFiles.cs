using System.Diagnostics;

namespace ModelShrink.Testing;

/// <summary>Creates the special files hostile-path tests need (.NET has no API for a FIFO).</summary>
public static class SpecialFiles
{
    /// <summary>Creates a FIFO (named pipe) at <paramref name="path"/>; the test is inconclusive where there are none (Windows).</summary>
    public static string Fifo(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Inconclusive("no FIFOs on Windows");
        }

        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        mkfifo.WaitForExit();
        Assert.AreEqual(0, mkfifo.ExitCode, "mkfifo failed");
        return path;
    }

    /// <summary>Whether the file at <paramref name="path"/> is still a FIFO (not replaced by a regular file).</summary>
    public static bool IsFifo(string path) => FileType(path) == 'p';

    /// <summary>The first letter `ls -l` prints for the path's type: '-' file, 'd' folder, 'p' FIFO, 'c' character device.</summary>
    public static char FileType(string path)
    {
        using var ls = Process.Start(new ProcessStartInfo("ls", ["-ld", path]) { UseShellExecute = false, RedirectStandardOutput = true })!;
        var line = ls.StandardOutput.ReadToEnd();
        ls.WaitForExit();
        return line.Length > 0 ? line[0] : '?';
    }

    /// <summary>Runs a tool (chattr, chmod...) and says whether it succeeded; false where it is missing.</summary>
    public static bool Run(string tool, params string[] args)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(tool, args) { UseShellExecute = false, RedirectStandardError = true })!;
            process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Whether this process runs as root (permission tests mean nothing then).</summary>
    public static bool IsRoot => !OperatingSystem.IsWindows() && Environment.UserName == "root";
}
