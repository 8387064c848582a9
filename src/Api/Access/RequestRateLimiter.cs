using System.Collections.Concurrent;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.RateLimits;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Api.Access;

public sealed record RateLimitDecision(bool Allowed, int Limit, int Remaining, TimeSpan ResetIn);

/// <summary>
/// Fixed one-minute windows per API key, held cluster-wide by <see cref="IRateLimitGrain"/>. This silo
/// leases a slice of the key's budget (a tenth of the limit, 1 to 1,000 tokens) and spends it in
/// memory, so a request costs a grain call only once per slice and an exhausted window costs
/// nothing. The next slice is leased while half of the current one is left, so a busy key's requests
/// do not all wait for that call each time a slice runs out. The cluster never admits more than the
/// limit; a silo may refuse while another still holds unspent tokens (at most one and a half slices
/// per silo).
/// </summary>
public sealed class RequestRateLimiter([FromKeyedServices(GatewayClock.Key)] TimeProvider time, Orleans.IGrainFactory grains)
{
    private const int MaxSlice = 1_000;
    private readonly ConcurrentDictionary<Guid, Bucket> buckets = new();

    public static int SliceOf(int limit) => Math.Clamp(limit / 10, 1, MaxSlice);

    public async Task<RateLimitDecision> TakeAsync(Guid keyId, int limit)
    {
        var bucket = buckets.GetOrAdd(keyId, _ => new Bucket());
        while (true)
        {
            var now = time.GetUtcNow();
            var window = RateLimitGrain.WindowOf(now);
            Task<bool> leasing;
            lock (bucket)
            {
                if (bucket.WindowStart < window)
                {
                    bucket.Reset(window);
                }

                if (bucket.Unspent > 0)
                {
                    bucket.Unspent--;
                    if (bucket.Unspent <= SliceOf(limit) / 2 && bucket.Leasing is null && !bucket.Exhausted)
                    {
                        // Ahead of need: nobody waits for it unless the slice runs out first.
                        bucket.Leasing = LeaseAsync(keyId, bucket, limit);
                    }

                    return Decision(true, bucket, limit, now);
                }

                if (bucket.Exhausted)
                {
                    return Decision(false, bucket, limit, now);
                }

                // One lease call per key and silo at a time; concurrent requests wait for its slice.
                bucket.Leasing ??= LeaseAsync(keyId, bucket, limit);
                leasing = bucket.Leasing;
            }

            var usable = await leasing;
            Prune(window);
            if (!usable)
            {
                // The grain's clock is still in an older window than this silo's: refuse rather than spin.
                lock (bucket)
                {
                    return Decision(false, bucket, limit, now);
                }
            }
        }
    }

    private async Task<bool> LeaseAsync(Guid keyId, Bucket bucket, int limit)
    {
        await Task.Yield();
        try
        {
            var lease = await grains.GetGrain<IRateLimitGrain>(keyId).Lease(SliceOf(limit), limit);
            lock (bucket)
            {
                if (lease.WindowStart > bucket.WindowStart)
                {
                    bucket.Reset(lease.WindowStart);
                }

                if (lease.WindowStart < bucket.WindowStart)
                {
                    return false;
                }

                bucket.Unspent += lease.Granted;
                bucket.LeftInCluster = Math.Max(0, lease.Limit - lease.GrantedInWindow);
                bucket.Exhausted = lease.Granted == 0;
                return true;
            }
        }
        finally
        {
            lock (bucket)
            {
                bucket.Leasing = null;
            }
        }
    }

    private static RateLimitDecision Decision(bool allowed, Bucket bucket, int limit, DateTimeOffset now) =>
        new(allowed, limit, Math.Min(limit, bucket.Unspent + bucket.LeftInCluster), bucket.WindowStart + RateLimitGrain.Window - now);

    private void Prune(DateTimeOffset window)
    {
        if (buckets.Count <= 100_000)
        {
            return;
        }

        foreach (var (key, stale) in buckets)
        {
            if (stale.WindowStart < window && stale.Leasing is null)
            {
                buckets.TryRemove(key, out _);
            }
        }
    }

    private sealed class Bucket
    {
        public DateTimeOffset WindowStart { get; private set; }

        public int Unspent { get; set; }

        public int LeftInCluster { get; set; }

        public bool Exhausted { get; set; }

        public Task<bool>? Leasing { get; set; }

        public void Reset(DateTimeOffset window)
        {
            WindowStart = window;
            Unspent = 0;
            LeftInCluster = 0;
            Exhausted = false;
        }
    }
}
