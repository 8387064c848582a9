using System.Collections.Concurrent;

namespace CryptoPay.Runtime.Bench.Measurement;

/// <summary>One reminder firing as the grain saw it: the due time and the tick's fired time.</summary>
public readonly record struct Firing(DateTimeOffset DueAt, DateTimeOffset FiredAt)
{
    public TimeSpan Lag => FiredAt - DueAt;
}

/// <summary>
/// DI singleton the probe grains report to. The first firing per grain counts; later ones (an
/// at-least-once re-fire, or a turn replayed after an optimistic conflict) are only counted.
/// </summary>
public sealed class FireLagCollector
{
    private readonly ConcurrentDictionary<string, Firing> firings = new(StringComparer.Ordinal);
    private long repeats;

    public int Count => firings.Count;

    public long Repeats => Interlocked.Read(ref repeats);

    public void Record(string grainKey, DateTimeOffset dueAt, DateTimeOffset firedAt)
    {
        if (!firings.TryAdd(grainKey, new Firing(dueAt, firedAt)))
        {
            Interlocked.Increment(ref repeats);
        }
    }

    public Firing[] Snapshot() => [.. firings.Values];
}
