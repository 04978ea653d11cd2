using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ModelShrink.Onnx.Diagnostics;
using ModelShrink.Shared;

namespace ModelShrink.Onnx.IO;

/// <summary>
/// A hidden folder beside an output (<c>.modelshrink-staging-&lt;id&gt;</c>) where a run writes
/// everything before moving it into place. It records its owner (process id and start time), so
/// a later run removes the folders of runs that died (killed, power lost) and never those of a run
/// still going; the live ones are listed so a signal handler can remove them before the process exits.
/// </summary>
public sealed class StagingFolder : IDisposable
{
    /// <summary>How every staging folder's name starts.</summary>
    public const string Prefix = ".modelshrink-staging-";

    /// <summary>The file inside a staging folder that names its owner: "pid start-time-ticks".</summary>
    public const string OwnerFile = ".owner";

    // A folder without an owner file is from an older engine, or one being created this instant.
    private static readonly TimeSpan OwnerlessGrace = TimeSpan.FromHours(1);
    private static readonly TimeSpan StartTimeTolerance = TimeSpan.FromSeconds(2);
    private static readonly ConcurrentDictionary<StagingFolder, byte> Live = new();
    private static readonly Lazy<string> Owner = new(() => string.Create(CultureInfo.InvariantCulture,
        $"{Environment.ProcessId} {Process.GetCurrentProcess().StartTime.ToUniversalTime().Ticks}"));

    private StagingFolder(string path, string target)
    {
        FullPath = path;
        Target = target;
    }

    /// <summary>
    /// Held while a staging folder or an output lock is created (until it is listed as live) and
    /// while files move from a staging folder into place, so a signal handler that takes it never
    /// misses a folder being made nor cuts a publish between a model and its external data.
    /// </summary>
    public static object PublishLock { get; } = new();

    /// <summary>The folder's absolute path.</summary>
    public string FullPath { get; }

    /// <summary>The output this folder stages, as the user named it.</summary>
    public string Target { get; }

    /// <summary>
    /// Removes stale staging folders in <paramref name="parent"/>, then creates a fresh one there
    /// (creating <paramref name="parent"/> too). A folder that cannot be written is MSH1019 naming
    /// <paramref name="target"/>, the output as the user gave it.
    /// </summary>
    public static StagingFolder Create(string parent, string target, string setting)
    {
        var folder = new StagingFolder(Path.Combine(parent, Prefix + Guid.NewGuid().ToString("N")), target);
        try
        {
            Directory.CreateDirectory(parent);
            RemoveStale(parent);
            lock (PublishLock)
            {
                Live[folder] = 0;
                Directory.CreateDirectory(folder.FullPath);
                File.WriteAllText(Path.Combine(folder.FullPath, OwnerFile), Owner.Value);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            folder.Dispose();
            // The exception names the hidden staging folder; the user named only the output.
            var reason = e is UnauthorizedAccessException ? "permission denied (a read-only folder, or another user's)" : e.Message.Replace(folder.FullPath, parent, StringComparison.Ordinal);
            throw ModelShrinkException.Error(ErrorCodes.OutputFolderNotWritable,
                $"cannot write into the output's folder '{parent}': {reason}", target, setting, e);
        }

        return folder;
    }

    /// <summary>
    /// Removes every staging folder of this process that is still live (for a signal handler) and
    /// returns the outputs they staged, which were therefore not written.
    /// </summary>
    public static IReadOnlyList<string> RemoveAllLive()
    {
        var targets = new List<string>();
        foreach (var folder in Live.Keys)
        {
            targets.Add(folder.Target);
            folder.Dispose();
        }

        return targets;
    }

    /// <summary>
    /// Removes the staging folders in <paramref name="parent"/> whose owner process is gone (or,
    /// without an owner file, that are older than an hour); returns how many it removed.
    /// </summary>
    public static int RemoveStale(string parent)
    {
        var removed = 0;
        foreach (var folder in Directory.EnumerateDirectories(parent, Prefix + "*"))
        {
            if (IsStale(folder) && TryDelete(folder))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>A path inside the folder.</summary>
    public string PathOf(string name) => Path.Combine(FullPath, name);

    /// <summary>The files the run left in the folder to publish (the owner file aside).</summary>
    public string[] StagedFiles() =>
        Directory.GetFiles(FullPath).Where(f => Path.GetFileName(f) != OwnerFile).ToArray();

    /// <summary>Deletes the folder and everything left in it.</summary>
    public void Dispose()
    {
        Live.TryRemove(this, out _);
        TryDelete(FullPath);
    }

    private static bool IsStale(string folder)
    {
        string owner;
        try
        {
            owner = File.ReadAllText(Path.Combine(folder, OwnerFile));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) > OwnerlessGrace;
        }

        var parts = owner.Split(' ');
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid) || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var ticks))
        {
            return DateTime.UtcNow - Directory.GetLastWriteTimeUtc(folder) > OwnerlessGrace;
        }

        return !IsRunning(pid, new DateTime(ticks, DateTimeKind.Utc));
    }

    // A process id is reused once its process is gone: the start time tells the owner from a newcomer.
    private static bool IsRunning(int pid, DateTime startedUtc)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return (process.StartTime.ToUniversalTime() - startedUtc).Duration() < StartTimeTolerance;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            // Exists but cannot be inspected (another user's process): assume it is the owner.
            return true;
        }
    }

    private static bool TryDelete(string path)
    {
        // A writer still running in the folder may add a file between the listing and the removal.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                if (Directory.Exists(path))
                {
                    Directory.Delete(path, recursive: true);
                }

                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Thread.Sleep(10);
            }
        }

        return false;
    }
}
