namespace CryptoPay.TestSupport.Nodes;

/// <summary>A node that is started on ports picked just before launch, and so may find one taken.</summary>
internal interface ILaunchableNode : IAsyncDisposable
{
    /// <summary>Starts the process and waits until it answers; false when it exited first.</summary>
    Task<bool> TryLaunchAsync(CancellationToken ct);

    /// <summary>Whether the last launch failed because another process held one of its ports.</summary>
    bool PortWasTaken { get; }

    /// <summary>What failed, with the node's output, for the exception message.</summary>
    string LaunchFailure { get; }

    /// <summary>Stops a failed attempt's process, keeping the scratch directory for the next attempt.</summary>
    Task DiscardAttemptAsync();
}

internal static class NodeLauncher
{
    private const int Attempts = 5;

    /// <summary>Launches nodes from <paramref name="create"/> (fresh ports each time) until one answers or a failure is not a port race.</summary>
    public static async Task<TNode> LaunchAsync<TNode>(Func<TNode> create, CancellationToken ct)
        where TNode : class, ILaunchableNode
    {
        for (var attempt = 1; ; attempt++)
        {
            var node = create();
            try
            {
                if (await node.TryLaunchAsync(ct))
                {
                    return node;
                }

                if (attempt == Attempts || !node.PortWasTaken)
                {
                    throw new InvalidOperationException(node.LaunchFailure);
                }
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }

            await node.DiscardAttemptAsync();
        }
    }
}
