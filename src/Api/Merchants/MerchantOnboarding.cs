using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Merchants;
using Orleans;

namespace CryptoPay.Api.Merchants;

/// <summary>A key as returned once at creation: the only time its secret is shown.</summary>
public sealed record IssuedKey(Guid Id, string Key, string Prefix, string Mode, IReadOnlyList<string> Scopes, IReadOnlyList<string> AllowedIps, string Format, string? Name);

/// <summary>What a new key is to be: its mode and format, what it may do and from where, and an optional label.</summary>
public sealed record KeyRequest(Mode Mode, string Format, IReadOnlyList<string> Scopes, IReadOnlyList<string> AllowedIps, string? Name = null, string? Description = null);

public sealed record NewMerchant(MerchantState Merchant, IReadOnlyList<IssuedKey> Keys);

/// <summary>Creates merchants and their keys; shared by the admin endpoints and the operator command.</summary>
public sealed class MerchantOnboarding(IGrainFactory grains)
{
    /// <param name="keyFormat">The format of the first live and test keys (<see cref="KeyFormats"/>): a merchant coming from one of the profiled APIs gets keys it can use at once.</param>
    /// <param name="merchantId">
    /// The id derived from the request's Idempotency-Key, if it had one (else random): the retry of an attempt that died
    /// reaches the merchant it created, and gets a new pair of keys (the first pair's secrets were never shown).
    /// </param>
    public async Task<NewMerchant> CreateAsync(
        string name, string reportingCurrency, int? rateLimitPerMinute, IReadOnlyList<string>? paymentMethods, IReadOnlyDictionary<string, int>? confirmations = null,
        string keyFormat = KeyFormats.CryptoPay, Guid? merchantId = null)
    {
        var id = merchantId ?? Guid.NewGuid();
        var merchant = await grains.GetGrain<IMerchantGrain>(id).Create(new MerchantSettings(name, reportingCurrency, rateLimitPerMinute, paymentMethods) { Confirmations = confirmations });
        var live = (await IssueKeyAsync(id, new KeyRequest(Mode.Live, keyFormat, ApiKeyScopes.Default, [])))!;
        var test = (await IssueKeyAsync(id, new KeyRequest(Mode.Test, keyFormat, ApiKeyScopes.Default, [])))!;
        return new NewMerchant(merchant, [live, test]);
    }

    /// <summary>Issues a key; null when <see cref="KeyRequest.Name"/> is the name of another of the merchant's keys.</summary>
    public async Task<IssuedKey?> IssueKeyAsync(Guid merchantId, KeyRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var secret = ApiKeySecret.Generate(request.Mode, request.Format, merchantId);
        if (request.Name is { } name && !await ReserveNameAsync(merchantId, name, secret.Id))
        {
            return null;
        }

        var key = await grains.GetGrain<IApiKeyGrain>(secret.Id).Issue(
            new ApiKeyIssue(merchantId, request.Mode, secret.Hash, secret.Prefix, request.Scopes, request.AllowedIps)
            {
                Format = request.Format,
                Name = request.Name,
                Description = request.Description,
            });
        return new IssuedKey(key.Id, secret.Secret, key.Prefix, request.Mode == Mode.Live ? "live" : "test", key.Scopes, key.AllowedIps, key.Format, key.Name);
    }

    /// <summary>
    /// Reserves the name in the merchant's grain, which serialises concurrent requests. A name held by a key that was never
    /// issued (its request failed after reserving) is taken over.
    /// </summary>
    private async Task<bool> ReserveNameAsync(Guid merchantId, string name, Guid keyId)
    {
        var merchant = grains.GetGrain<IMerchantGrain>(merchantId);
        var holder = await merchant.ReserveKeyName(name, keyId);
        if (holder is { } other && other != keyId && await grains.GetGrain<IApiKeyGrain>(other).Get() is null)
        {
            holder = await merchant.ReserveKeyName(name, keyId, replacing: other);
        }

        return holder == keyId;
    }
}
