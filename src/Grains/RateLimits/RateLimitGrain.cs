using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.RateLimits;

/// <summary>What a silo may spend for one key in one window: <see cref="Granted"/> tokens now, of which the cluster has handed out <see cref="GrantedInWindow"/>.</summary>
public sealed record RateLease(DateTimeOffset WindowStart, int Granted, int GrantedInWindow, int Limit);

public sealed record RateLimitState
{
    public DateTimeOffset WindowStart { get; set; }

    public int Granted { get; set; }
}

/// <summary>
/// The cluster-wide request budget of one API key per one-minute window. Silos lease slices of it
/// and spend them in memory, so a request costs a database write only once per slice; the sum of
/// all leases never exceeds the limit, whatever the number of silos.
/// </summary>
[GrainType("rate-limit")]
public interface IRateLimitGrain : IGrainWithGuidKey
{
    /// <summary>Hands out up to <paramref name="wanted"/> of the current window's remaining tokens (none once spent).</summary>
    Task<RateLease> Lease(int wanted, int limit);
}

public sealed class RateLimitGrain : Grain<RateLimitState>, IRateLimitGrain
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static DateTimeOffset WindowOf(DateTimeOffset now) => new(now.UtcTicks - now.UtcTicks % Window.Ticks, TimeSpan.Zero);

    public Task<RateLease> Lease(int wanted, int limit)
    {
        var window = WindowOf(Now);
        if (State.WindowStart != window)
        {
            State = new RateLimitState { WindowStart = window };
        }

        var granted = Math.Clamp(Math.Min(wanted, limit - State.Granted), 0, int.MaxValue);
        State.Granted += granted;
        return Task.FromResult(new RateLease(window, granted, State.Granted, limit));
    }
}
