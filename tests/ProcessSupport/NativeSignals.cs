using System.Runtime.InteropServices;

namespace CryptoPay.ProcessSupport;

/// <summary>
/// POSIX signals .NET's Process type cannot send: SIGTERM, as an orchestrator stops a container, and
/// SIGSTOP/SIGCONT, a process that hangs with its sockets open.
/// </summary>
internal static class NativeSignals
{
    private const int SigTerm = 15;

    public static void Terminate(int processId) => Send(processId, SigTerm, "SIGTERM");

    public static void Stop(int processId) => Send(processId, OperatingSystem.IsMacOS() ? 17 : 19, "SIGSTOP");

    public static void Continue(int processId) => Send(processId, OperatingSystem.IsMacOS() ? 19 : 18, "SIGCONT");

    private static void Send(int processId, int signal, string name)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            throw new PlatformNotSupportedException($"{name} can only be sent on Linux and macOS.");
        }

        if (Kill(processId, signal) != 0)
        {
            throw new InvalidOperationException($"kill({processId}, {name}) failed with errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Kill(int pid, int signal);
}
