using CryptoPay.Runtime.Grains;

namespace CryptoPay.Runtime.Storage;

/// <summary>
/// A store's report of committed grain changes, so a silo can keep trusting its copies of grains
/// that nobody changed. Only commits marked <see cref="TurnCommit.AnnounceChange"/> are reported.
/// </summary>
public interface IGrainChangeFeed
{
    /// <summary>
    /// Reports to <paramref name="listener"/> until <paramref name="ct"/> is cancelled, reconnecting after
    /// failures. Times passed to the listener are read from <paramref name="time"/>; an asynchronous feed
    /// proves it is caught up every <paramref name="probeInterval"/> (real time).
    /// </summary>
    Task RunAsync(IGrainChangeListener listener, TimeProvider time, TimeSpan probeInterval, CancellationToken ct);
}

/// <summary>What a silo learns from a <see cref="IGrainChangeFeed"/>. The feed calls it from one thread at a time, in order.</summary>
public interface IGrainChangeListener
{
    /// <summary>
    /// The feed is (re)connected: every announced commit that completes after <paramref name="since"/> will be
    /// reported. <paramref name="synchronous"/>: the store reports each announced commit before that commit
    /// completes, so the listener is always caught up and no <see cref="CaughtUp"/> follows.
    /// </summary>
    void Connected(DateTimeOffset since, bool synchronous);

    /// <summary>An announced commit wrote <paramref name="version"/> of <paramref name="grain"/>.</summary>
    void Changed(GrainId grain, long version);

    /// <summary>Every announced commit that completed before <paramref name="asOf"/> has been reported.</summary>
    void CaughtUp(DateTimeOffset asOf);

    /// <summary>The feed lost its connection: changes may go unreported until the next <see cref="Connected"/>.</summary>
    void Disconnected();
}
