using System.Globalization;
using System.Numerics;
using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Grains.AutoSettlement;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Api.Tests.Settlements;

public sealed class MemoryAutoSettlementApiTests : AutoSettlementApiTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresAutoSettlementApiTests(PostgresFixture postgres) : AutoSettlementApiTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>
/// Automatic settlement through real HTTP and the host's silo: settings, and windows run by moving the gateway clock to
/// the end of the window (the grain's wake reminder), on live balances credited through the ledger as confirmed
/// deposits credit them. The ledger invariants, reservations included, hold after each test.
/// </summary>
public abstract class AutoSettlementApiTests : IAsyncLifetime
{
    private const string TronAddress = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
    private const string BtcAddress = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";
    private const string LtcAddress = "ltc1qjmxnz78nmc8nq77wuxh25n2es7rzm5c2rkk4wh";

    private GatewayHost host = null!;

    protected abstract Task<string?> CreateDatabaseAsync();

    public async Task InitializeAsync() => host = await GatewayHost.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync()
    {
        try
        {
            await host.RunDueWorkAsync();
            await LedgerInvariants.CheckAsync(host.Services.GetRequiredService<ILedgerQuery>());
        }
        finally
        {
            await host.DisposeAsync();
        }
    }

    /// <summary>A merchant with a live key that may withdraw and read balances, and its default live and test keys.</summary>
    private async Task<(string MerchantId, HttpClient Client, string LiveKey, string TestKey)> MerchantAsync(string name = "Shop")
    {
        var (merchantId, liveKey, testKey) = await host.CreateMerchantAsync($$"""{"name":"{{name}}"}""");
        using var admin = host.ClientWith(GatewayHost.AdminKey);
        var key = await admin.PostJsonAsync($"/v1/merchants/{merchantId}/api-keys", """{"mode":"live","scopes":["withdrawals:write","balances:read"]}""");
        Assert.True(key.Status == 201, key.Body.ToString());
        return (merchantId, host.ClientWith(key.Body.Str("key")), liveKey, testKey);
    }

    private static async Task<List<JsonElement>> WithdrawalsAsync(HttpClient client)
    {
        var list = await client.GetJsonAsync("/v1/withdrawals?asset=USDT-TRON&page_size=100");
        Assert.True(list.Status == 200, list.Body.ToString());
        return [.. list.Body.GetProperty("items").EnumerateArray().Reverse()];
    }

    private static Task<(int Status, JsonElement Body, HttpResponseMessage Response)> PutAsync(HttpClient client, string asset, string body) =>
        client.SendJsonAsync(HttpMethod.Put, $"/v1/settlement-settings/{asset}", body);

    private static IEnumerable<string> PaymentIds(JsonElement withdrawal) =>
        withdrawal.GetProperty("payment_ids").EnumerateArray().Select(p => p.GetString()!);

    private static DateTimeOffset Time(JsonElement element, string name) =>
        DateTimeOffset.Parse(element.Str(name), CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_merchant_sets_reads_lists_replaces_and_deletes_a_setting_and_no_one_else_sees_it()
    {
        var (_, client, liveKey, _) = await MerchantAsync();
        var (_, other, _, _) = await MerchantAsync("Other");
        var start = host.Clock.GetUtcNow();

        var saved = await PutAsync(client, "usdt-tron", $$"""{"address":"{{TronAddress}}","schedule":"hourly"}""");
        Assert.True(saved.Status == 200, saved.Body.ToString());
        Assert.Equal(("USDT-TRON", "tron", TronAddress, "hourly"), (saved.Body.Str("asset"), saved.Body.Str("network"), saved.Body.Str("address"), saved.Body.Str("schedule")));
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (saved.Body.GetProperty("minimum").ValueKind, saved.Body.GetProperty("last_run").ValueKind));
        Assert.Equal(start.AddHours(1), Time(saved.Body, "next_run_at"));

        var read = await client.GetJsonAsync("/v1/settlement-settings/USDT-TRON");
        Assert.Equal((200, "hourly"), (read.Status, read.Body.Str("schedule")));
        // A key that may only read sees it too.
        Assert.Equal(200, (await host.ClientWith(liveKey).GetJsonAsync("/v1/settlement-settings/USDT-TRON")).Status);

        var beneficiary = await client.PostJsonAsync("/v1/beneficiaries", """{"network":"ltc","address":"LdP8Qox1VAhCzLJNqrr74YovaWYyNBUWvL"}""");
        Assert.True(beneficiary.Status == 201, beneficiary.Body.ToString());
        var ltc = await PutAsync(client, "LTC", $$"""{"network":"ltc","beneficiary_id":"{{beneficiary.Body.Str("id")}}","schedule":"weekly","minimum":"0.5"}""");
        Assert.True(ltc.Status == 200, ltc.Body.ToString());
        Assert.Equal(("LdP8Qox1VAhCzLJNqrr74YovaWYyNBUWvL", beneficiary.Body.Str("id"), "0.50000000"), (ltc.Body.Str("address"), ltc.Body.Str("beneficiary_id"), ltc.Body.Str("minimum")));
        // 2030-01-01 is a Tuesday: the weekly window closes on Monday the 7th at midnight.
        Assert.Equal(new DateTimeOffset(2030, 1, 7, 0, 0, 0, TimeSpan.Zero), Time(ltc.Body, "next_run_at"));

        var replaced = await PutAsync(client, "USDT-TRON", $$"""{"network":"tron","address":"{{TronAddress}}","schedule":"daily","minimum":50}""");
        Assert.Equal((200, "daily", "50.000000"), (replaced.Status, replaced.Body.Str("schedule"), replaced.Body.Str("minimum")));
        Assert.Equal(start.AddDays(1), Time(replaced.Body, "next_run_at"));

        var list = await client.GetJsonAsync("/v1/settlement-settings");
        Assert.Equal(["LTC", "USDT-TRON"], list.Body.GetProperty("items").EnumerateArray().Select(i => i.Str("asset")));
        Assert.Empty((await other.GetJsonAsync("/v1/settlement-settings")).Body.GetProperty("items").EnumerateArray());
        HttpJson.AssertProblem(await other.GetJsonAsync("/v1/settlement-settings/USDT-TRON"), 404, "NOT_FOUND");
        HttpJson.AssertProblem(await other.SendJsonAsync(HttpMethod.Delete, "/v1/settlement-settings/USDT-TRON"), 404, "NOT_FOUND");

        Assert.Equal(204, (await client.SendJsonAsync(HttpMethod.Delete, "/v1/settlement-settings/USDT-TRON")).Status);
        HttpJson.AssertProblem(await client.GetJsonAsync("/v1/settlement-settings/USDT-TRON"), 404, "NOT_FOUND");
        HttpJson.AssertProblem(await client.SendJsonAsync(HttpMethod.Delete, "/v1/settlement-settings/USDT-TRON"), 404, "NOT_FOUND");
        HttpJson.AssertProblem(await client.GetJsonAsync("/v1/settlement-settings/DOGE"), 404, "NOT_FOUND");
        Assert.Equal(["LTC"], (await client.GetJsonAsync("/v1/settlement-settings")).Body.GetProperty("items").EnumerateArray().Select(i => i.Str("asset")));
    }

    [Fact]
    public async Task Settings_are_refused_with_a_code_for_test_keys_missing_scopes_and_every_bad_input()
    {
        var (merchantId, client, liveKey, _) = await MerchantAsync();
        var (_, other, _, _) = await MerchantAsync("Other");
        using var admin = host.ClientWith(GatewayHost.AdminKey);
        var testKey = (await admin.PostJsonAsync($"/v1/merchants/{merchantId}/api-keys", """{"mode":"test","scopes":["withdrawals:write","balances:read"]}""")).Body.Str("key");
        var foreign = (await other.PostJsonAsync("/v1/beneficiaries", $$"""{"network":"tron","address":"{{TronAddress}}"}""")).Body.Str("id");
        var tronBeneficiary = (await client.PostJsonAsync("/v1/beneficiaries", $$"""{"network":"tron","address":"{{TronAddress}}"}""")).Body.Str("id");
        var valid = $$"""{"address":"{{TronAddress}}","schedule":"hourly"}""";
        using var test = host.ClientWith(testKey);

        HttpJson.AssertProblem(await PutAsync(test, "USDT-TRON", valid), 400, "WITHDRAWALS_DISABLED_IN_SANDBOX");
        HttpJson.AssertProblem(await test.GetJsonAsync("/v1/settlement-settings"), 400, "WITHDRAWALS_DISABLED_IN_SANDBOX");
        HttpJson.AssertProblem(await test.GetJsonAsync("/v1/settlement-settings/USDT-TRON"), 400, "WITHDRAWALS_DISABLED_IN_SANDBOX");
        HttpJson.AssertProblem(await test.SendJsonAsync(HttpMethod.Delete, "/v1/settlement-settings/USDT-TRON"), 400, "WITHDRAWALS_DISABLED_IN_SANDBOX");
        HttpJson.AssertProblem(await PutAsync(host.ClientWith(liveKey), "USDT-TRON", valid), 403, "FORBIDDEN");
        HttpJson.AssertProblem(await host.ClientWith(liveKey).SendJsonAsync(HttpMethod.Delete, "/v1/settlement-settings/USDT-TRON"), 403, "FORBIDDEN");
        Assert.Equal(401, (await host.Http.GetJsonAsync("/v1/settlement-settings")).Status);

        foreach (var (asset, body, status, code) in new (string, string, int, string)[]
        {
            ("USDT-TRON", $$"""{"address":"{{BtcAddress}}","schedule":"hourly"}""", 400, "INVALID_ADDRESS"),
            ("USDT-TRON", """{"address":"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u","schedule":"hourly"}""", 400, "INVALID_ADDRESS"),
            ("LTC", $$"""{"address":"{{TronAddress}}","schedule":"daily"}""", 400, "INVALID_ADDRESS"),
            ("BTC", $$"""{"address":"{{LtcAddress}}","schedule":"daily"}""", 400, "INVALID_ADDRESS"),
            ("USDT-TRON", $$"""{"network":"eth","address":"{{TronAddress}}","schedule":"hourly"}""", 400, "UNSUPPORTED_NETWORK"),
            ("LTC", $$"""{"beneficiary_id":"{{tronBeneficiary}}","schedule":"daily"}""", 400, "UNSUPPORTED_NETWORK"),
            ("DOGE", $$"""{"address":"{{TronAddress}}","schedule":"hourly"}""", 400, "UNSUPPORTED_NETWORK"),
            ("USDT-SANDBOX", $$"""{"address":"{{TronAddress}}","schedule":"hourly"}""", 400, "UNSUPPORTED_NETWORK"),
            ("USDT-TRON", $$"""{"address":"{{TronAddress}}","schedule":"monthly"}""", 400, "VALIDATION_FAILED"),
            ("USDT-TRON", $$"""{"address":"{{TronAddress}}"}""", 400, "VALIDATION_FAILED"),
            ("USDT-TRON", $$"""{"address":"{{TronAddress}}","schedule":7}""", 400, "VALIDATION_FAILED"),
            ("USDT-TRON", """{"schedule":"hourly"}""", 400, "VALIDATION_FAILED"),
            ("USDT-TRON", $$"""{"address":"{{TronAddress}}","beneficiary_id":"{{tronBeneficiary}}","schedule":"hourly"}""", 400, "VALIDATION_FAILED"),
            ("USDT-TRON", """{"beneficiary_id":"nope","schedule":"hourly"}""", 400, "VALIDATION_FAILED"),
            ("USDT-TRON", $$"""{"beneficiary_id":"{{foreign}}","schedule":"hourly"}""", 404, "NOT_FOUND"),
            ("USDT-TRON", $$"""{"address":"{{TronAddress}}","schedule":"hourly","minimum":"-1"}""", 400, "INVALID_AMOUNT_RANGE"),
            ("USDT-TRON", $$"""{"address":"{{TronAddress}}","schedule":"hourly","minimum":"1.1234567"}""", 400, "INVALID_AMOUNT_FORMAT"),
            ("USDT-TRON", $$"""{"address":"{{TronAddress}}","schedule":"hourly","minimum":"ten"}""", 400, "INVALID_AMOUNT_FORMAT"),
            ("USDT-TRON", "{", 400, "VALIDATION_FAILED"),
            ("USDT-TRON", "[]", 400, "VALIDATION_FAILED"),
        })
        {
            var answer = await PutAsync(client, asset, body);
            Assert.True(answer.Status == status && answer.Body.Str("code") == code, $"PUT {asset} {body}: {answer.Status} {answer.Body}");
        }

        using var plain = new HttpRequestMessage(HttpMethod.Put, "/v1/settlement-settings/USDT-TRON") { Content = new StringContent(valid, System.Text.Encoding.UTF8, "text/plain") };
        using var refused = await client.SendAsync(plain);
        Assert.Equal((System.Net.HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"), (refused.StatusCode, JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.Str("code")));

        Assert.Empty((await client.GetJsonAsync("/v1/settlement-settings")).Body.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Each_window_pays_the_available_balance_less_the_fee_once_listing_the_deposits_credited_since_the_last_payout()
    {
        var (merchantId, client, _, _) = await MerchantAsync();
        var saved = await PutAsync(client, "USDT-TRON", $$"""{"address":"{{TronAddress}}","schedule":"hourly"}""");
        Assert.True(saved.Status == 200, saved.Body.ToString());
        var first = await host.CreditLiveDepositAsync(merchantId, "USDT", "tron", 40_000_000);
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        var second = await host.CreditLiveDepositAsync(merchantId, "USDT", "tron", 60_000_000);
        Assert.Empty(await WithdrawalsAsync(client));

        await host.AdvanceAsync(TimeSpan.FromMinutes(59));

        var withdrawal = Assert.Single(await WithdrawalsAsync(client));
        Assert.Equal(("queued", "99.000000", "1.000000", "100.000000"), (withdrawal.Str("status"), withdrawal.Str("amount"), withdrawal.Str("fee"), withdrawal.Str("total_debit")));
        Assert.Equal((TronAddress, "tron", "auto-settlement"), (withdrawal.Str("address"), withdrawal.Str("network"), withdrawal.Str("reference")));
        Assert.Equal([first, second], PaymentIds(withdrawal));
        Assert.Equal(("0.000000", "100.000000"), await GatewayHost.UsdtTronAsync(client));
        var window = SettlementSchedules.WindowAt(SettlementSchedule.Hourly, host.Clock.GetUtcNow()) - 1;
        Assert.Equal(AutoSettlementGrain.WithdrawalIdFor(Guid.Parse(merchantId), "USDT-TRON", SettlementSchedule.Hourly, window).ToString(), withdrawal.Str("id"));
        var setting = (await client.GetJsonAsync("/v1/settlement-settings/USDT-TRON")).Body;
        Assert.Equal(("requested", withdrawal.Str("id")), (setting.GetProperty("last_run").Str("outcome"), setting.GetProperty("last_run").Str("withdrawal_id")));
        Assert.Equal(host.Clock.GetUtcNow().AddHours(1), Time(setting, "next_run_at"));

        // The window again, by the reminder path and by waking the grain itself: nothing new.
        await host.RunDueWorkAsync();
        await host.Grains.GetGrain<IAutoSettlementGrain>(AutoSettlementGrain.KeyFor(Guid.Parse(merchantId), Mode.Live, "USDT-TRON")).Wake();
        Assert.Single(await WithdrawalsAsync(client));
        Assert.Equal(("0.000000", "100.000000"), await GatewayHost.UsdtTronAsync(client));

        var third = await host.CreditLiveDepositAsync(merchantId, "USDT", "tron", 30_000_000);
        await host.AdvanceAsync(TimeSpan.FromHours(1));

        var withdrawals = await WithdrawalsAsync(client);
        Assert.Equal(2, withdrawals.Count);
        Assert.Equal(withdrawal.Str("id"), withdrawals[0].Str("id"));
        Assert.Equal(("29.000000", "30.000000"), (withdrawals[1].Str("amount"), withdrawals[1].Str("total_debit")));
        Assert.Equal([third], PaymentIds(withdrawals[1]));
        Assert.Equal(("0.000000", "130.000000"), await GatewayHost.UsdtTronAsync(client));
        Assert.Equal([first, second], PaymentIds((await client.GetJsonAsync($"/v1/withdrawals/{withdrawal.Str("id")}")).Body));

        // Nothing credited since: the next window has nothing to pay and requests nothing.
        await host.AdvanceAsync(TimeSpan.FromHours(1));
        Assert.Equal(2, (await WithdrawalsAsync(client)).Count);
        Assert.Equal("below_minimum", (await client.GetJsonAsync("/v1/settlement-settings/USDT-TRON")).Body.GetProperty("last_run").Str("outcome"));
    }

    [Fact]
    public async Task Below_the_minimum_nothing_is_requested_and_the_deposits_wait_for_the_payout_that_reaches_it()
    {
        var (merchantId, client, _, _) = await MerchantAsync();
        // The asset's minimum is 5 USDT + 1 fee; the merchant's own is 50 (+ 1 fee).
        var saved = await PutAsync(client, "USDT-TRON", $$"""{"address":"{{TronAddress}}","schedule":"hourly","minimum":"50"}""");
        Assert.True(saved.Status == 200, saved.Body.ToString());
        var small = await host.CreditLiveDepositAsync(merchantId, "USDT", "tron", 5_500_000);

        await host.AdvanceAsync(TimeSpan.FromHours(1));
        Assert.Empty(await WithdrawalsAsync(client));
        Assert.Equal(("5.500000", "0.000000"), await GatewayHost.UsdtTronAsync(client));
        Assert.Equal("below_minimum", (await client.GetJsonAsync("/v1/settlement-settings/USDT-TRON")).Body.GetProperty("last_run").Str("outcome"));

        var more = await host.CreditLiveDepositAsync(merchantId, "USDT", "tron", 45_000_000);
        await host.AdvanceAsync(TimeSpan.FromHours(1));
        Assert.Empty(await WithdrawalsAsync(client));

        var last = await host.CreditLiveDepositAsync(merchantId, "USDT", "tron", 500_000);
        await host.AdvanceAsync(TimeSpan.FromHours(1));
        var withdrawal = Assert.Single(await WithdrawalsAsync(client));
        Assert.Equal(("50.000000", "51.000000"), (withdrawal.Str("amount"), withdrawal.Str("total_debit")));
        Assert.Equal([small, more, last], PaymentIds(withdrawal));
        Assert.Equal(("0.000000", "51.000000"), await GatewayHost.UsdtTronAsync(client));
    }

    [Fact]
    public async Task A_payout_above_the_USD_threshold_waits_for_review_and_a_deleted_setting_runs_no_window()
    {
        var (merchantId, client, _, _) = await MerchantAsync();
        var saved = await PutAsync(client, "USDT-TRON", $$"""{"address":"{{TronAddress}}","schedule":"daily"}""");
        Assert.True(saved.Status == 200, saved.Body.ToString());
        var deposit = await host.CreditLiveDepositAsync(merchantId, "USDT", "tron", 800_000_000);

        await host.AdvanceAsync(TimeSpan.FromDays(1));
        var withdrawal = Assert.Single(await WithdrawalsAsync(client));
        Assert.Equal(("review", "799.000000"), (withdrawal.Str("status"), withdrawal.Str("amount")));
        Assert.Equal([deposit], PaymentIds(withdrawal));

        Assert.Equal(204, (await client.SendJsonAsync(HttpMethod.Delete, "/v1/settlement-settings/USDT-TRON")).Status);
        await host.CreditLiveDepositAsync(merchantId, "USDT", "tron", 100_000_000);
        await host.AdvanceAsync(TimeSpan.FromDays(1));
        Assert.Single(await WithdrawalsAsync(client));
        Assert.Equal(("100.000000", "800.000000"), await GatewayHost.UsdtTronAsync(client));
    }
}
