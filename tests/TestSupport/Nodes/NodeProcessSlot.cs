namespace CryptoPay.TestSupport.Nodes;

/// <summary>
/// What a node fixture owns besides its ports: the running process (one per launch attempt), the HTTP
/// client its RPC goes through, and its scratch directory; stopped, disposed and deleted once.
/// </summary>
internal sealed class NodeProcessSlot(HttpClient http, string scratchDirectory) : IAsyncDisposable
{
    private bool disposed;

    public NodeProcess? Process { get; set; }

    public string Log => Process?.Output.ToString() ?? "";

    /// <summary>Stops a failed attempt's process; the directory stays for the next attempt.</summary>
    public async Task DiscardAttemptAsync()
    {
        await StopProcessAsync();
        http.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        await StopProcessAsync();
        http.Dispose();
        ScratchDirectory.TryDelete(scratchDirectory);
    }

    private async Task StopProcessAsync()
    {
        if (Process is not null)
        {
            await Process.StopAsync();
            Process = null;
        }
    }
}
