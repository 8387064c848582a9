using System.Collections.Concurrent;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Merchants;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace CryptoPay.Api.Access;

/// <summary>
/// The API key and its merchant as this silo last read them, reused for at most <see cref="MaxAge"/>:
/// authentication then costs no grain call on most requests. A key revoked through this silo stops
/// at once; one revoked through another silo stops within <see cref="MaxAge"/> (1 s). The merchant
/// data kept (status, limit, enabled methods, reporting currency) never decides amounts paid or credited.
/// </summary>
public sealed class KeyCache(IGrainFactory grains, [FromKeyedServices(GatewayClock.Key)] TimeProvider time)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);
    private readonly ConcurrentDictionary<Guid, Entry> entries = new();

    public async Task<(ApiKeyState? Key, MerchantState? Merchant)> GetAsync(Guid keyId)
    {
        var now = time.GetUtcNow();
        if (entries.TryGetValue(keyId, out var cached) && now - cached.ReadAt < MaxAge && now >= cached.ReadAt)
        {
            return (cached.Key, cached.Merchant);
        }

        var key = await grains.GetGrain<IApiKeyGrain>(keyId).Get();
        var merchant = key is null ? null : await grains.GetGrain<IMerchantGrain>(key.MerchantId).Get();
        if (key is not null)
        {
            if (entries.Count > 100_000)
            {
                entries.Clear();
            }

            entries[keyId] = new Entry(key, merchant, now);
        }

        return (key, merchant);
    }

    /// <summary>Drops the key so its next use reads it again; true, for use inside conditions.</summary>
    public bool Forget(Guid keyId)
    {
        entries.TryRemove(keyId, out _);
        return true;
    }

    private sealed record Entry(ApiKeyState Key, MerchantState? Merchant, DateTimeOffset ReadAt);
}
