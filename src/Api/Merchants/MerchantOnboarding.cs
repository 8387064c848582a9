using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Merchants;
using Orleans;

namespace CryptoPay.Api.Merchants;

/// <summary>A key as returned once at creation: the only time its secret is shown.</summary>
public sealed record IssuedKey(Guid Id, string Key, string Prefix, string Mode, IReadOnlyList<string> Scopes, IReadOnlyList<string> AllowedIps);

public sealed record NewMerchant(MerchantState Merchant, IReadOnlyList<IssuedKey> Keys);

/// <summary>Creates merchants and their keys; shared by the admin endpoints and the operator command.</summary>
public sealed class MerchantOnboarding(IGrainFactory grains)
{
    public async Task<NewMerchant> CreateAsync(
        string name, string reportingCurrency, int? rateLimitPerMinute, IReadOnlyList<string>? paymentMethods, IReadOnlyDictionary<string, int>? confirmations = null)
    {
        var id = Guid.NewGuid();
        var merchant = await grains.GetGrain<IMerchantGrain>(id).Create(new MerchantSettings(name, reportingCurrency, rateLimitPerMinute, paymentMethods) { Confirmations = confirmations });
        var live = await IssueKeyAsync(id, Mode.Live, ApiKeyScopes.Default, []);
        var test = await IssueKeyAsync(id, Mode.Test, ApiKeyScopes.Default, []);
        return new NewMerchant(merchant, [live, test]);
    }

    public async Task<IssuedKey> IssueKeyAsync(Guid merchantId, Mode mode, IReadOnlyList<string> scopes, IReadOnlyList<string> allowedIps)
    {
        var secret = ApiKeySecret.Generate(mode);
        var key = await grains.GetGrain<IApiKeyGrain>(secret.Id).Issue(new ApiKeyIssue(merchantId, mode, secret.Hash, secret.Prefix, scopes, allowedIps));
        return new IssuedKey(key.Id, secret.Secret, key.Prefix, mode == Mode.Live ? "live" : "test", key.Scopes, key.AllowedIps);
    }
}
