using CryptoPay.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace CryptoPay.Grains.RateLimits;

[GenerateSerializer]
[Alias("cryptopay.rate-lease")]
public sealed record RateLease(
    [property: Id(0)] DateTimeOffset WindowStart,
    [property: Id(1)] int Granted,
    [property: Id(2)] int GrantedInWindow,
    [property: Id(3)] int Limit);

/// <summary>
/// The request budget of one API key per minute, counted cluster-wide by the key's single activation. The count is
/// kept in memory only: writing it would cost a database write per request, and a silo's death at worst forgives
/// the rest of one minute's count.
/// </summary>
[Alias("cryptopay.rate-limit")]
public interface IRateLimitGrain : IGrainWithGuidKey
{
    Task<RateLease> Lease(int wanted, int limit);
}

public sealed class RateLimitGrain([FromKeyedServices(GatewayClock.Key)] TimeProvider clock) : Grain, IRateLimitGrain
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private DateTimeOffset windowStart;
    private int granted;

    public static DateTimeOffset WindowOf(DateTimeOffset now) => new(now.UtcTicks - now.UtcTicks % Window.Ticks, TimeSpan.Zero);

    public Task<RateLease> Lease(int wanted, int limit)
    {
        var window = WindowOf(clock.GetUtcNow());
        if (windowStart != window)
        {
            (windowStart, granted) = (window, 0);
        }

        var lease = Math.Clamp(Math.Min(wanted, limit - granted), 0, int.MaxValue);
        granted += lease;
        return Task.FromResult(new RateLease(window, lease, granted, limit));
    }
}
