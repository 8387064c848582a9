using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Storage;

namespace CryptoPay.Runtime.Execution;

/// <summary>
/// A silo's view of the store's change feed: which of its copies another silo changed, and as of when a
/// copy nobody reported changed is known current. Without a connected feed a copy is current as of its
/// last confirmation only, so cached reads fall back to their max age.
/// </summary>
internal sealed class GrainChangeTracker(Silo silo) : IGrainChangeListener
{
    private volatile FeedState? feed;
    private readonly AsyncSignal progressed = new();

    private long connections;

    /// <summary>Null while disconnected. Replaced whole, so a reader sees one consistent state.</summary>
    private sealed record FeedState(long Connection, DateTimeOffset CaughtUpTo, bool Synchronous);

    public bool IsConnected => feed is not null;

    /// <summary>How many times the feed connected (for tests that break the connection).</summary>
    public long Connections => Interlocked.Read(ref connections);

    /// <summary>
    /// The current connection's number, 0 while disconnected. A copy remembers the connection under which its
    /// confirmation started: only that connection, unbroken, has reported every change since (a count, not a
    /// time, so a disconnect and reconnect within one clock tick, or under a test's manual clock, still counts).
    /// </summary>
    public long Connection => feed?.Connection ?? 0;

    public void Connected(DateTimeOffset since, bool synchronous)
    {
        feed = new FeedState(Interlocked.Increment(ref connections), since, synchronous);
        progressed.Set();
    }

    public void Changed(GrainId grain, long version) => silo.NoteChanged(grain, version);

    public void CaughtUp(DateTimeOffset asOf)
    {
        if (feed is { } current && asOf > current.CaughtUpTo)
        {
            feed = current with { CaughtUpTo = asOf };
        }

        progressed.Set();
    }

    public void Disconnected()
    {
        feed = null;
        progressed.Set();
    }

    /// <summary>
    /// The time as of which a copy confirmed at <paramref name="validatedAt"/>, with the confirmation started under
    /// connection <paramref name="validatedUnder"/>, is known current, provided no change of it was reported: later
    /// than its confirmation only while that connection is unbroken (a gap may have lost reports). Read this
    /// before the copy's reported version: the feed reports a change before it reports being caught up past it.
    /// </summary>
    public DateTimeOffset CurrentAsOf(DateTimeOffset validatedAt, long validatedUnder, DateTimeOffset now)
    {
        if (feed is not { } current || validatedUnder == 0 || current.Connection != validatedUnder)
        {
            return validatedAt;
        }

        var asOf = current.Synchronous ? now : current.CaughtUpTo;
        return asOf > validatedAt ? asOf : validatedAt;
    }

    /// <summary>Test hook: completes once the feed is connected and reports being caught up to at least <paramref name="time"/>.</summary>
    public Task WhenCaughtUpAsync(DateTimeOffset time, CancellationToken ct) =>
        WhenAsync(() => feed is { } current && (current.Synchronous || current.CaughtUpTo >= time), ct);

    /// <summary>Test hook: completes once <paramref name="condition"/> holds, checked whenever the feed reports.</summary>
    public async Task WhenAsync(Func<bool> condition, CancellationToken ct)
    {
        while (true)
        {
            var signal = progressed.WaitAsync();
            if (condition())
            {
                return;
            }

            await signal.WaitAsync(ct).ConfigureAwait(false);
        }
    }
}
