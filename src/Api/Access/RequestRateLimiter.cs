using System.Collections.Concurrent;

namespace CryptoPay.Api.Access;

public sealed record RateLimitDecision(bool Allowed, int Limit, int Remaining, TimeSpan ResetIn);

/// <summary>
/// Fixed one-minute windows per API key, counted in this silo's memory: a request costs no database
/// round trip. With N silos behind a balancer a key can reach up to N × its limit.
/// </summary>
public sealed class RequestRateLimiter(TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<Guid, Counter> counters = new();

    public RateLimitDecision Take(Guid keyId, int limit)
    {
        var now = time.GetUtcNow();
        var windowStart = new DateTimeOffset(now.UtcTicks - now.UtcTicks % Window.Ticks, TimeSpan.Zero);
        var counter = counters.AddOrUpdate(
            keyId,
            _ => new Counter(windowStart, 1),
            (_, current) => current.Start == windowStart ? current with { Count = current.Count + 1 } : new Counter(windowStart, 1));
        var resetIn = windowStart + Window - now;
        if (counters.Count > 100_000)
        {
            foreach (var stale in counters.Where(c => c.Value.Start < windowStart).Select(c => c.Key).ToList())
            {
                counters.TryRemove(stale, out _);
            }
        }

        return new RateLimitDecision(counter.Count <= limit, limit, Math.Max(0, limit - counter.Count), resetIn);
    }

    private sealed record Counter(DateTimeOffset Start, int Count);
}
