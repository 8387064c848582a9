using System.Diagnostics;
using System.Globalization;
using CryptoPay.TestSupport.Processes;

namespace CryptoPay.TestSupport.Postgres;

/// <summary>
/// Makes sure test runs leave no postgres processes or data directories behind: kills the servers still
/// running when the test process exits, and at each start removes those of test processes that died
/// without exiting normally (SIGKILL by a test runner, SIGTERM, which .NET 10 no longer turns into
/// ProcessExit, or a crash).
/// </summary>
internal static class PostgresProcessReaper
{
    private const string TempRoot = "/tmp";
    private const string DirectoryPrefix = "cryptopay-pg-";
    private static readonly TimeSpan OrphanStopTimeout = TimeSpan.FromSeconds(10);

    private static readonly Lock Gate = new();
    private static readonly HashSet<PostgresServer> LiveServers = [];

    static PostgresProcessReaper() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();

    /// <summary>A fresh data directory path that names this process as its owner, for <see cref="SweepOrphansAsync"/>.</summary>
    public static string NewDataDirectory() =>
        Path.Combine(TempRoot, $"{DirectoryPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");

    public static void Track(PostgresServer server)
    {
        lock (Gate)
        {
            LiveServers.Add(server);
        }
    }

    public static void Forget(PostgresServer server)
    {
        lock (Gate)
        {
            LiveServers.Remove(server);
        }
    }

    /// <summary>Stops the servers and deletes the data directories of test processes that no longer run.</summary>
    public static async Task SweepOrphansAsync(CancellationToken ct)
    {
        // Liveness is read from /proc; elsewhere a live owner could not be told from a dead one.
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        foreach (var directory in Directory.EnumerateDirectories(TempRoot, DirectoryPrefix + "*"))
        {
            var owner = OwnerProcessId(directory);
            if (owner is null || ProcessLiveness.IsRunning(owner.Value))
            {
                continue;
            }

            await StopOrphanServerAsync(directory, ct);
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Another user's directory, or another test process sweeping it at the same time.
            }
        }
    }

    private static void KillAll()
    {
        PostgresServer[] servers;
        lock (Gate)
        {
            servers = [.. LiveServers];
            LiveServers.Clear();
        }

        foreach (var server in servers)
        {
            server.KillAndDeleteForProcessExit();
        }
    }

    private static int? OwnerProcessId(string directory)
    {
        var name = Path.GetFileName(directory).AsSpan(DirectoryPrefix.Length);
        var dash = name.IndexOf('-');
        return dash > 0 && int.TryParse(name[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? pid
            : null;
    }

    private static async Task StopOrphanServerAsync(string directory, CancellationToken ct)
    {
        // The first line of postmaster.pid is the postmaster's PID; it is ours only if that process still
        // runs on this data directory (PIDs get reused).
        string[] lockFile;
        try
        {
            lockFile = await File.ReadAllLinesAsync(Path.Combine(directory, "postmaster.pid"), ct);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return;
        }

        if (lockFile.Length == 0
            || !int.TryParse(lockFile[0], NumberStyles.None, CultureInfo.InvariantCulture, out var postmaster)
            || !RunsOnDataDirectory(postmaster, directory))
        {
            return;
        }

        // SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its backends down with it.
        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-QUIT", postmaster.ToString(CultureInfo.InvariantCulture) } }))
        {
            if (kill is not null)
            {
                await kill.WaitForExitAsync(ct);
            }
        }

        var startedAt = Stopwatch.GetTimestamp();
        while (RunsOnDataDirectory(postmaster, directory) && Stopwatch.GetElapsedTime(startedAt) < OrphanStopTimeout)
        {
            await Task.Delay(50, ct);
        }

        if (RunsOnDataDirectory(postmaster, directory))
        {
            try
            {
                using var stubborn = Process.GetProcessById(postmaster);
                stubborn.Kill(entireProcessTree: true);
            }
            catch (Exception exception) when (exception is ArgumentException or InvalidOperationException)
            {
                // It exited after all.
            }
        }
    }

    private static bool RunsOnDataDirectory(int processId, string directory)
    {
        try
        {
            return File.ReadAllText($"/proc/{processId}/cmdline").Contains(directory, StringComparison.Ordinal);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
