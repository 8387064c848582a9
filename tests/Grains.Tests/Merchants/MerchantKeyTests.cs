using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Tests.Hosting;
using Orleans;

namespace CryptoPay.Grains.Tests.Merchants;

/// <summary>Merchants and their API keys on Orleans: a key's grain tells its merchant through its outbox, applied once per effect.</summary>
[Collection(OrleansCluster.Collection)]
public sealed class MerchantKeyTests(OrleansCluster cluster)
{
    [Fact]
    public async Task An_issued_key_is_listed_by_its_merchant_once_even_when_its_effect_is_delivered_twice()
    {
        var (merchantId, merchant) = await NewMerchantAsync();
        var keyGrain = cluster.Grains.GetGrain<IApiKeyGrain>(Guid.NewGuid());

        var key = await keyGrain.Issue(Issue(merchantId));
        var issued = MerchantKeyEffect.Issued(merchantId, key.Summary);
        await merchant.ApplyKeyEffect(issued);
        await merchant.ApplyKeyEffect(issued with { Key = issued.Key with { Prefix = "cp_live_changed" } });
        await keyGrain.Issue(Issue(merchantId));

        var listed = Assert.Single((await merchant.Get())!.Keys);
        Assert.Equal((key.Id, "cp_live_1234abcd", Mode.Live, (DateTimeOffset?)null), (listed.Id, listed.Prefix, listed.Mode, listed.RevokedAt));
    }

    [Fact]
    public async Task A_revoked_key_is_seen_revoked_by_its_merchant_once()
    {
        var (merchantId, merchant) = await NewMerchantAsync();
        var keyGrain = cluster.Grains.GetGrain<IApiKeyGrain>(Guid.NewGuid());
        var key = await keyGrain.Issue(Issue(merchantId));

        Assert.True(await keyGrain.Revoke());
        var revokedAt = (await keyGrain.Get())!.RevokedAt;
        Assert.NotNull(revokedAt);
        var afterRevoke = (await merchant.Get())!;
        Assert.Equal(revokedAt, Assert.Single(afterRevoke.Keys).RevokedAt);

        // Delivered again later, with a later time, and the issue delivered again behind it: nothing changes.
        cluster.Clock.Advance(TimeSpan.FromHours(1));
        var revoked = MerchantKeyEffect.Revoked(merchantId, key.Summary with { RevokedAt = revokedAt });
        await merchant.ApplyKeyEffect(revoked with { Key = revoked.Key with { RevokedAt = cluster.Clock.GetUtcNow() } });
        await merchant.ApplyKeyEffect(MerchantKeyEffect.Issued(merchantId, key.Summary));
        Assert.True(await keyGrain.Revoke());

        var seen = (await merchant.Get())!;
        Assert.Equal(revokedAt, Assert.Single(seen.Keys).RevokedAt);
        Assert.Equal(afterRevoke.UpdatedAt, seen.UpdatedAt);
        Assert.Equal(revokedAt, (await keyGrain.Get())!.RevokedAt);
    }

    [Fact]
    public async Task Keys_and_merchants_survive_deactivation()
    {
        var (merchantId, merchant) = await NewMerchantAsync();
        var keyId = Guid.NewGuid();
        await cluster.Grains.GetGrain<IApiKeyGrain>(keyId).Issue(Issue(merchantId));
        await cluster.Grains.GetGrain<IApiKeyGrain>(keyId).Revoke();

        await cluster.DeactivateAllAsync();

        var key = await cluster.Grains.GetGrain<IApiKeyGrain>(keyId).Get();
        Assert.Equal((merchantId, "hash", true), (key!.MerchantId, key.Hash, key.RevokedAt is not null));
        var listed = Assert.Single((await merchant.Get())!.Keys);
        Assert.Equal((keyId, key.RevokedAt), (listed.Id, listed.RevokedAt));
    }

    [Fact]
    public async Task A_key_of_an_unknown_merchant_changes_no_merchant_and_an_unknown_key_is_not_revoked()
    {
        var merchantId = Guid.NewGuid();
        await cluster.Grains.GetGrain<IApiKeyGrain>(Guid.NewGuid()).Issue(Issue(merchantId));

        Assert.Null(await cluster.Grains.GetGrain<IMerchantGrain>(merchantId).Get());
        Assert.False(await cluster.Grains.GetGrain<IApiKeyGrain>(Guid.NewGuid()).Revoke());
    }

    [Fact]
    public async Task Create_is_repeatable_and_update_changes_confirmation_overrides()
    {
        var (_, merchant) = await NewMerchantAsync();
        var again = await merchant.Create(new MerchantSettings("Other", "EUR", 5, []));
        Assert.Equal(("Shop", "USD"), (again.Name, again.ReportingCurrency));

        var updated = await merchant.Update(new MerchantChanges { Confirmations = new Dictionary<string, int?> { ["btc"] = 3, ["ltc"] = null } });

        Assert.Equal(new Dictionary<string, int> { ["btc"] = 3 }, updated!.Confirmations);
        Assert.Null(await cluster.Grains.GetGrain<IMerchantGrain>(Guid.NewGuid()).Update(new MerchantChanges()));
    }

    [Fact]
    public async Task A_key_name_is_held_by_one_key_ignoring_case_until_that_key_is_revoked()
    {
        var (merchantId, merchant) = await NewMerchantAsync();
        var (first, second, third) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        Assert.Equal(first, await merchant.ReserveKeyName("Shop API", first));
        Assert.Equal(first, await merchant.ReserveKeyName("Shop API", first));
        Assert.Equal(first, await merchant.ReserveKeyName(" shop api ", second));
        Assert.Equal(third, await merchant.ReserveKeyName("Other", third));
        // Handed over only from the holder named (a reservation whose key was never issued).
        Assert.Equal(first, await merchant.ReserveKeyName("shop api", second, replacing: third));
        Assert.Equal(second, await merchant.ReserveKeyName("shop api", second, replacing: first));

        var key = await cluster.Grains.GetGrain<IApiKeyGrain>(second).Issue(Issue(merchantId) with { Name = "Shop API" });
        Assert.True(await cluster.Grains.GetGrain<IApiKeyGrain>(second).Revoke());
        Assert.Equal(first, await merchant.ReserveKeyName("Shop API", first));
        Assert.Null(await cluster.Grains.GetGrain<IMerchantGrain>(Guid.NewGuid()).ReserveKeyName("Shop API", first));
        Assert.Equal("Shop API", key.Name);
    }

    [Fact]
    public async Task A_name_of_a_key_listed_before_names_were_reserved_is_taken()
    {
        var (merchantId, merchant) = await NewMerchantAsync();
        var listed = Guid.NewGuid();
        await merchant.ApplyKeyEffect(MerchantKeyEffect.Issued(merchantId, new ApiKeySummary(listed, Mode.Live, "cp_live_x", [], [], cluster.Clock.GetUtcNow(), null) { Name = "Legacy" }));

        Assert.Equal(listed, await merchant.ReserveKeyName("legacy", Guid.NewGuid()));
    }

    private async Task<(Guid Id, IMerchantGrain Grain)> NewMerchantAsync()
    {
        var id = Guid.NewGuid();
        var merchant = cluster.Grains.GetGrain<IMerchantGrain>(id);
        await merchant.Create(new MerchantSettings("Shop", "USD", null, ["btc"]) { Confirmations = new Dictionary<string, int> { ["ltc"] = 4 } });
        return (id, merchant);
    }

    private static ApiKeyIssue Issue(Guid merchantId) =>
        new(merchantId, Mode.Live, "hash", "cp_live_1234abcd", [ApiKeyScopes.InvoicesRead], []);
}
