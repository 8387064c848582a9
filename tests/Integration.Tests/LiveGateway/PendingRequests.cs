using System.Diagnostics;
using System.Globalization;

namespace CryptoPay.Integration.Tests.LiveGateway;

/// <summary>
/// Which process has a request waiting, unread, at a loopback server: with the server suspended (SIGSTOP) the kernel
/// still queues what clients send, so the server side of a connection with bytes in its receive queue names its client
/// port, and the client socket's inode names the process. Linux only (/proc/net/tcp, /proc/&lt;pid&gt;/fd).
/// </summary>
internal static class PendingRequests
{
    /// <summary>The first of <paramref name="processIds"/> with a request queued at <paramref name="serverPort"/>, or null.</summary>
    public static int? WaitingAt(int serverPort, IEnumerable<int> processIds)
    {
        var sockets = Sockets().ToList();
        var clientPorts = sockets.Where(s => s.LocalPort == serverPort && s.ReceiveQueue > 0).Select(s => s.RemotePort).ToHashSet();
        var clientInodes = sockets
            .Where(s => clientPorts.Contains(s.LocalPort) && s.RemotePort == serverPort && s.Inode != 0)
            .Select(s => $"socket:[{s.Inode.ToString(CultureInfo.InvariantCulture)}]")
            .ToHashSet(StringComparer.Ordinal);
        return processIds.Cast<int?>().FirstOrDefault(pid => OpenSockets(pid!.Value).Any(clientInodes.Contains));
    }

    /// <summary>The sockets at <paramref name="serverPort"/>, for failure messages.</summary>
    public static string Describe(int serverPort, IEnumerable<int> processIds) =>
        string.Join('\n', Sockets().Where(s => s.LocalPort == serverPort || s.RemotePort == serverPort)) + "\n" +
        string.Join('\n', processIds.Append(Environment.ProcessId).Select(pid => $"{pid}: {string.Join(' ', OpenSockets(pid).Where(t => t.StartsWith("socket:", StringComparison.Ordinal)))}"));

    /// <summary>Suspends a process (SIGSTOP) until the returned handle is disposed (SIGCONT).</summary>
    public static IDisposable Suspend(int processId)
    {
        Signal("-STOP", processId);
        return new Resume(processId);
    }

    private static void Signal(string signal, int processId)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", [signal, processId.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })
            ?? throw new InvalidOperationException($"Could not run kill {signal} {processId}.");
        kill.WaitForExit();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill {signal} {processId} exited with {kill.ExitCode}.");
        }
    }

    private sealed class Resume(int processId) : IDisposable
    {
        public void Dispose() => Signal("-CONT", processId);
    }

    private sealed record Socket(int LocalPort, int RemotePort, long ReceiveQueue, long Inode);

    private static IEnumerable<Socket> Sockets()
    {
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" }.Where(File.Exists))
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                yield return new Socket(
                    Port(fields[1]), Port(fields[2]),
                    long.Parse(fields[4].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                    long.Parse(fields[9], CultureInfo.InvariantCulture));
            }
        }
    }

    private static int Port(string address) => int.Parse(address[(address.LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    private static IEnumerable<string> OpenSockets(int processId)
    {
        string[] descriptors;
        try
        {
            descriptors = Directory.GetFileSystemEntries($"/proc/{processId}/fd");
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (var descriptor in descriptors)
        {
            string? target = null;
            try
            {
                target = new FileInfo(descriptor).LinkTarget;
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException)
            {
                // Closed meanwhile.
            }

            if (target is not null)
            {
                yield return target;
            }
        }
    }
}
