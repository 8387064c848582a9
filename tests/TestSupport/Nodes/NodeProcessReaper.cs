using System.Diagnostics;
using System.Globalization;
using CryptoPay.TestSupport.Processes;

namespace CryptoPay.TestSupport.Nodes;

/// <summary>
/// Leaves no chain nodes or scratch directories behind: kills the nodes still running when the test process exits,
/// and at each start kills and deletes those of test processes that died without exiting normally. Each node runs
/// with its scratch directory as working directory and a <c>node.pid</c> file in it, so an orphan is recognised by
/// /proc/&lt;pid&gt;/cwd even after PIDs have been reused.
/// </summary>
internal static class NodeProcessReaper
{
    private const string TempRoot = "/tmp";
    private const string DirectoryPrefix = "cryptopay-node-";
    private const string PidFileName = "node.pid";

    private static readonly Lock Gate = new();
    private static readonly HashSet<NodeProcess> LiveNodes = [];

    static NodeProcessReaper() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();

    /// <summary>A fresh scratch directory whose name records this process as its owner.</summary>
    public static string CreateScratchDirectory(string kind)
    {
        var directory = Path.Combine(TempRoot, $"{DirectoryPrefix}{Environment.ProcessId}-{kind}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        return directory;
    }

    public static void Track(NodeProcess node)
    {
        File.WriteAllText(Path.Combine(node.ScratchDirectory, PidFileName), node.ProcessId.ToString(CultureInfo.InvariantCulture));
        lock (Gate)
        {
            LiveNodes.Add(node);
        }
    }

    public static void Forget(NodeProcess node)
    {
        lock (Gate)
        {
            LiveNodes.Remove(node);
        }
    }

    /// <summary>Kills the nodes and deletes the scratch directories of test processes that no longer run.</summary>
    public static void SweepOrphans()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        foreach (var directory in Directory.EnumerateDirectories(TempRoot, DirectoryPrefix + "*"))
        {
            if (OwnerProcessId(directory) is not { } owner || ProcessLiveness.IsRunning(owner))
            {
                continue;
            }

            KillOrphan(directory);
            ScratchDirectory.TryDelete(directory);
        }
    }

    private static void KillAll()
    {
        NodeProcess[] nodes;
        lock (Gate)
        {
            nodes = [.. LiveNodes];
            LiveNodes.Clear();
        }

        foreach (var node in nodes)
        {
            node.KillAndDeleteForProcessExit();
        }
    }

    private static void KillOrphan(string directory)
    {
        int pid;
        try
        {
            pid = int.Parse(File.ReadAllText(Path.Combine(directory, PidFileName)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return;
        }

        if (!RunsIn(pid, directory))
        {
            return;
        }

        try
        {
            using var orphan = Process.GetProcessById(pid);
            orphan.Kill(entireProcessTree: true);
            orphan.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (Exception exception) when (exception is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // It exited on its own meanwhile.
        }
    }

    private static bool RunsIn(int processId, string directory)
    {
        try
        {
            var cwd = new DirectoryInfo($"/proc/{processId}/cwd").ResolveLinkTarget(returnFinalTarget: false)?.FullName;
            return string.Equals(cwd, directory, StringComparison.Ordinal);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static int? OwnerProcessId(string directory)
    {
        var name = Path.GetFileName(directory).AsSpan(DirectoryPrefix.Length);
        var dash = name.IndexOf('-');
        return dash > 0 && int.TryParse(name[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
    }
}
