using System.Collections.Concurrent;
using System.Diagnostics;

namespace CryptoPay.ProcessSupport;

/// <summary>
/// Last-resort cleanup: kills child processes still running when the test process exits, so a test
/// that failed before its own cleanup leaves no silo running on a shared machine.
/// </summary>
internal static class ChildProcessReaper
{
    // Process-wide on purpose: ProcessExit is process-wide, and it must see every child started by any test.
    private static readonly ConcurrentDictionary<int, Process> Children = new();

    static ChildProcessReaper() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();

    public static void Track(Process process) => Children[process.Id] = process;

    public static void Forget(Process process) => Children.TryRemove(process.Id, out _);

    private static void KillAll()
    {
        foreach (var child in Children.Values)
        {
            try
            {
                child.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // Already exited or disposed.
            }
        }
    }
}
