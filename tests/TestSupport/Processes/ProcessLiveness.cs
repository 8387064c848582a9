namespace CryptoPay.TestSupport.Processes;

/// <summary>Whether a process still runs, read from /proc (Linux only).</summary>
internal static class ProcessLiveness
{
    /// <summary>True when the process exists and is not a zombie waiting to be reaped.</summary>
    public static bool IsRunning(int processId)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{processId}/stat");
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        // "pid (comm) state ...": comm may contain spaces and parentheses, so the state follows the last ')'.
        var state = stat.AsSpan(stat.LastIndexOf(')') + 1).TrimStart();
        return state.Length > 0 && state[0] is not ('Z' or 'X');
    }
}
