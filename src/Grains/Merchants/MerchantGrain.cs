using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace CryptoPay.Grains.Merchants;

/// <summary>A merchant: its settings and the API keys it lists (kept up to date by the keys' own grains).</summary>
[Alias("cryptopay.merchant")]
public interface IMerchantGrain : IGrainWithGuidKey
{
    /// <summary>Creates the merchant; a repeated call returns the merchant as it is.</summary>
    Task<MerchantState> Create(MerchantSettings settings);

    [ReadOnly]
    Task<MerchantState?> Get();

    /// <summary>Applies an operator's change; null when the merchant does not exist.</summary>
    Task<MerchantState?> Update(MerchantChanges changes);

    /// <summary>A key of this merchant was issued or revoked; applied once per effect id, ignored for an unknown merchant.</summary>
    Task ApplyKeyEffect(MerchantKeyEffect effect);

    /// <summary>
    /// Reserves <paramref name="name"/> (compared case-insensitively) for the key about to be issued: the key holding
    /// the name afterwards — <paramref name="keyId"/>, or the key that had it already (a revoked key frees its name).
    /// With <paramref name="replacing"/>, a name held by that key is handed over (a reservation whose key was never issued).
    /// Null for an unknown merchant.
    /// </summary>
    Task<Guid?> ReserveKeyName(string name, Guid keyId, Guid? replacing = null);
}

public sealed class MerchantGrain(
    [PersistentState("merchant")] IPersistentState<MerchantGrainState> state,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    LiveNetworks? live = null) : Grain, IMerchantGrain
{
    private MerchantState Merchant => state.State.Merchant;

    public async Task<MerchantState> Create(MerchantSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!Merchant.Exists)
        {
            var now = clock.GetUtcNow();
            state.State.Merchant = new MerchantState
            {
                Id = this.GetPrimaryKey(),
                Name = settings.Name,
                Status = MerchantStatus.Active,
                ReportingCurrency = settings.ReportingCurrency,
                RateLimitPerMinute = settings.RateLimitPerMinute,
                // By default what this gateway offers: its configured live networks and the sandbox chain.
                EnabledPaymentMethods = [.. settings.EnabledPaymentMethods ?? [.. (live ?? LiveNetworks.None).MethodsFor(Mode.Live).Concat(Assets.MethodsFor(testMode: true)).Select(m => m.Id)]],
                Confirmations = new Dictionary<string, int>(settings.Confirmations ?? new Dictionary<string, int>(), StringComparer.Ordinal),
                CreatedAt = now,
                UpdatedAt = now,
            };
            await WriteAsync();
        }

        return Merchant;
    }

    public Task<MerchantState?> Get() => Task.FromResult(Merchant.Exists ? Merchant : null);

    public async Task<MerchantState?> Update(MerchantChanges changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (!Merchant.Exists)
        {
            return null;
        }

        foreach (var (network, confirmations) in changes.Confirmations ?? new Dictionary<string, int?>())
        {
            if (confirmations is { } value)
            {
                Merchant.Confirmations[network] = value;
            }
            else
            {
                Merchant.Confirmations.Remove(network);
            }
        }

        Merchant.UpdatedAt = clock.GetUtcNow();
        await WriteAsync();
        return Merchant;
    }

    public async Task ApplyKeyEffect(MerchantKeyEffect effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        if (!Merchant.Exists || !state.State.AppliedKeyEffects.TryApply(effect.Id))
        {
            return;
        }

        var index = Merchant.Keys.FindIndex(k => k.Id == effect.Key.Id);
        if (effect.Change == MerchantKeyChange.Issued && index < 0)
        {
            Merchant.Keys.Add(effect.Key);
        }
        else if (effect.Change == MerchantKeyChange.Revoked && index >= 0 && Merchant.Keys[index].RevokedAt is null)
        {
            Merchant.Keys[index] = Merchant.Keys[index] with { RevokedAt = effect.Key.RevokedAt };
            foreach (var name in state.State.KeyNames.Where(n => n.Value == effect.Key.Id).Select(n => n.Key).ToList())
            {
                state.State.KeyNames.Remove(name);
            }
        }

        Merchant.UpdatedAt = clock.GetUtcNow();
        await WriteAsync();
    }

    public async Task<Guid?> ReserveKeyName(string name, Guid keyId, Guid? replacing = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!Merchant.Exists)
        {
            return null;
        }

        var key = KeyNameOf(name);
        // Keys named before names were reserved are found in the list.
        var holder = state.State.KeyNames.TryGetValue(key, out var reserved)
            ? reserved
            : Merchant.Keys.Find(k => k.RevokedAt is null && k.Name is { } n && KeyNameOf(n) == key)?.Id;
        if (holder is { } other && other != keyId && other != replacing)
        {
            return other;
        }

        if (holder != keyId)
        {
            state.State.KeyNames[key] = keyId;
            await WriteAsync();
        }

        return keyId;
    }

    /// <summary>How a key name is compared: "Shop" and "shop" are the same project.</summary>
    public static string KeyNameOf(string name) => name.Trim().ToUpperInvariant();

    /// <summary>Writes the state; on failure the activation goes, so the next call re-reads what was really stored.</summary>
    private async Task WriteAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            DeactivateOnIdle();
            throw;
        }
    }
}
