using System.Numerics;
using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Api.Tests.Webhooks;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Webhooks;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Api.Tests.Withdrawals;

public sealed class MemoryWithdrawalApiTests : WithdrawalApiTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresWithdrawalApiTests(PostgresFixture postgres) : WithdrawalApiTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>
/// Withdrawals and beneficiaries through real HTTP on a live balance credited through the ledger (an output's journal,
/// as a confirmed live deposit credits it); the ledger invariants, reserved and paid amounts included, hold after each test.
/// </summary>
public abstract class WithdrawalApiTests : IAsyncLifetime
{
    protected const string TronAddress = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
    protected const string BtcAddress = "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu";

    private GatewayHost host = null!;
    private WebhookReceiver receiver = null!;

    protected abstract Task<string?> CreateDatabaseAsync();

    public async Task InitializeAsync()
    {
        receiver = await WebhookReceiver.StartAsync();
        host = await GatewayHost.StartAsync(await CreateDatabaseAsync(), new Dictionary<string, string?> { ["Webhooks:AllowPrivateTargets"] = "true" });
    }

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
            await receiver.DisposeAsync();
        }
    }

    /// <summary>A merchant with a live key that may withdraw (withdrawals:write is not a default scope) and <paramref name="usdt"/> USDT-TRON available.</summary>
    private async Task<(string MerchantId, HttpClient Client)> FundedMerchantAsync(decimal usdt, string name = "Shop")
    {
        var (merchantId, _, _) = await host.CreateMerchantAsync($$"""{"name":"{{name}}"}""");
        using var admin = host.ClientWith(GatewayHost.AdminKey);
        var key = await admin.PostJsonAsync($"/v1/merchants/{merchantId}/api-keys", """{"mode":"live","scopes":["withdrawals:write","balances:read","webhooks:write"]}""");
        Assert.True(key.Status == 201, key.Body.ToString());
        await host.CreditLiveDepositAsync(merchantId, "USDT", "tron", (BigInteger)(usdt * 1_000_000m));
        return (merchantId, host.ClientWith(key.Body.Str("key")));
    }

    private static Task<(int Status, JsonElement Body, HttpResponseMessage Response)> WithdrawAsync(HttpClient client, string body, string? key = null) =>
        client.PostJsonAsync("/v1/withdrawals", body, r =>
        {
            if (key is not null)
            {
                r.Headers.Add("Idempotency-Key", key);
            }
        });

    private static string Usdt(string amount, string address = TronAddress) =>
        $$"""{"asset":"USDT","network":"tron","amount":"{{amount}}","address":"{{address}}","reference":"payout-1","metadata":{"order":"o-1"} }""";

    [Fact]
    public async Task A_withdrawal_reserves_amount_plus_fee_and_a_retry_with_its_key_is_the_same_withdrawal_reserved_once()
    {
        var (_, client) = await FundedMerchantAsync(100m);
        Assert.Equal(("100.000000", "0.000000"), await GatewayHost.UsdtTronAsync(client));

        var created = await WithdrawAsync(client, Usdt("20"), key: "w-1");
        Assert.True(created.Status == 201, created.Body.ToString());
        var body = created.Body;
        Assert.Equal(("queued", "USDT", "tron", "USDT-TRON"), (body.Str("status"), body.Str("asset"), body.Str("network"), body.Str("balance_asset")));
        Assert.Equal(("20.000000", "1.000000", "21.000000", "20.00"), (body.Str("amount"), body.Str("fee"), body.Str("total_debit"), body.Str("amount_usd")));
        Assert.Equal((TronAddress, "payout-1", "o-1"), (body.Str("address"), body.Str("reference"), body.GetProperty("metadata").Str("order")));
        Assert.Equal(("79.000000", "21.000000"), await GatewayHost.UsdtTronAsync(client));

        var retried = await WithdrawAsync(client, Usdt("20"), key: "w-1");
        Assert.Equal((201, body.Str("id")), (retried.Status, retried.Body.Str("id")));
        Assert.Equal(("79.000000", "21.000000"), await GatewayHost.UsdtTronAsync(client));
        HttpJson.AssertProblem(await WithdrawAsync(client, Usdt("21"), key: "w-1"), 422, "IDEMPOTENCY_KEY_REUSED");

        var read = await client.GetJsonAsync($"/v1/withdrawals/{body.Str("id")}");
        Assert.Equal((200, "21.000000"), (read.Status, read.Body.Str("total_debit")));
        var list = await client.GetJsonAsync("/v1/withdrawals?status=queued&asset=USDT-TRON");
        Assert.Equal([body.Str("id")], list.Body.GetProperty("items").EnumerateArray().Select(i => i.Str("id")));
        Assert.Equal(1, list.Body.GetProperty("pagination").GetProperty("total").GetInt32());
        Assert.Empty((await client.GetJsonAsync("/v1/withdrawals?asset=BTC")).Body.GetProperty("items").EnumerateArray());
        Assert.Empty((await client.GetJsonAsync("/v1/withdrawals?status=review")).Body.GetProperty("items").EnumerateArray());
        HttpJson.AssertProblem(await client.GetJsonAsync("/v1/withdrawals?status=reserving"), 400, "VALIDATION_FAILED");
        HttpJson.AssertProblem(await client.GetJsonAsync("/v1/withdrawals?page_size=101"), 400, "VALIDATION_FAILED");
    }

    [Fact]
    public async Task Twenty_concurrent_withdrawals_beyond_the_balance_reserve_exactly_the_affordable_ones()
    {
        var (_, client) = await FundedMerchantAsync(100m);

        // 10 + 1 fee each: 9 fit in 100, 11 are refused, and nothing goes below zero.
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => WithdrawAsync(client, Usdt("10"), key: $"c-{i}")));

        Assert.Equal(9, answers.Count(a => a.Status == 201));
        Assert.All(answers.Where(a => a.Status != 201), a => HttpJson.AssertProblem(a, 400, "INSUFFICIENT_BALANCE"));
        Assert.Equal(("1.000000", "99.000000"), await GatewayHost.UsdtTronAsync(client));
        Assert.Equal(9, (await client.GetJsonAsync("/v1/withdrawals?page_size=100")).Body.GetProperty("pagination").GetProperty("total").GetInt32());

        // A refused request's key answers the refusal again; a withdrawal that still fits goes through.
        HttpJson.AssertProblem(await WithdrawAsync(client, Usdt("10"), key: $"c-{Array.FindIndex(answers, a => a.Status != 201)}"), 400, "INSUFFICIENT_BALANCE");
        HttpJson.AssertProblem(await WithdrawAsync(client, Usdt("5")), 400, "INSUFFICIENT_BALANCE");
    }

    [Fact]
    public async Task Above_500_USD_a_withdrawal_waits_for_review_the_operator_approves_or_rejects_and_events_are_sent()
    {
        var (merchantId, client) = await FundedMerchantAsync(2000m);
        var endpoint = await client.PostJsonAsync("/v1/webhook-endpoints", $$"""{"url":"{{receiver.Url()}}","events":["withdrawal.review","withdrawal.queued","withdrawal.rejected","withdrawal.cancelled"]}""");
        Assert.True(endpoint.Status == 201, endpoint.Body.ToString());

        var first = (await WithdrawAsync(client, Usdt("600"))).Body;
        var second = (await WithdrawAsync(client, Usdt("600"))).Body;
        var small = (await WithdrawAsync(client, Usdt("499"))).Body;
        Assert.Equal(("review", "review", "queued"), (first.Str("status"), second.Str("status"), small.Str("status")));
        Assert.Equal(("298.000000", "1702.000000"), await GatewayHost.UsdtTronAsync(client));

        using var admin = host.ClientWith(GatewayHost.AdminKey);
        var queue = await admin.GetJsonAsync("/v1/admin/withdrawals?status=review");
        Assert.Equal(new[] { first.Str("id"), second.Str("id") }.Order(), queue.Body.GetProperty("items").EnumerateArray().Select(i => i.Str("id")).Order());
        Assert.All(queue.Body.GetProperty("items").EnumerateArray(), i => Assert.Equal(merchantId, i.Str("merchant_id")));
        Assert.Equal(401, (await client.PostJsonAsync($"/v1/admin/withdrawals/{first.Str("id")}/approve", "{}")).Status);
        Assert.Equal(401, (await client.GetJsonAsync("/v1/admin/withdrawals")).Status);

        var approved = await admin.PostJsonAsync($"/v1/admin/withdrawals/{first.Str("id")}/approve", "{}");
        Assert.Equal((200, "queued"), (approved.Status, approved.Body.Str("status")));
        HttpJson.AssertProblem(await admin.PostJsonAsync($"/v1/admin/withdrawals/{second.Str("id")}/reject", "{}"), 400, "VALIDATION_FAILED");
        var rejected = await admin.PostJsonAsync($"/v1/admin/withdrawals/{second.Str("id")}/reject", """{"reason":"unverified destination"}""");
        Assert.Equal((200, "rejected", "unverified destination"), (rejected.Status, rejected.Body.Str("status"), rejected.Body.Str("reason")));
        await host.RunDueWorkAsync();
        Assert.Equal(("899.000000", "1101.000000"), await GatewayHost.UsdtTronAsync(client));

        HttpJson.AssertProblem(await admin.PostJsonAsync($"/v1/admin/withdrawals/{second.Str("id")}/approve", "{}"), 409, "INVALID_STATE_TRANSITION");
        HttpJson.AssertProblem(await admin.PostJsonAsync($"/v1/admin/withdrawals/{Guid.NewGuid()}/approve", "{}"), 404, "NOT_FOUND");
        Assert.Empty((await admin.GetJsonAsync("/v1/admin/withdrawals?status=review")).Body.GetProperty("items").EnumerateArray());
        Assert.Equal("rejected", (await client.GetJsonAsync($"/v1/withdrawals/{second.Str("id")}")).Body.Str("status"));

        var sender = host.Services.GetRequiredService<WebhookSender>();
        for (var round = 0; round < 5; round++)
        {
            await host.RunDueWorkAsync();
            await sender.WhenIdleAsync();
        }

        var events = receiver.Received.Select(r => JsonDocument.Parse(r.Body).RootElement)
            .Select(e => (Type: e.Str("type"), Id: e.GetProperty("data").GetProperty("object").Str("id"), Status: e.GetProperty("data").GetProperty("object").Str("status")))
            .ToList();
        Assert.Equal(
            new[]
            {
                ("withdrawal.queued", first.Str("id"), "queued"), ("withdrawal.queued", small.Str("id"), "queued"),
                ("withdrawal.rejected", second.Str("id"), "rejected"), ("withdrawal.review", first.Str("id"), "review"), ("withdrawal.review", second.Str("id"), "review"),
            }.Order(),
            events.Order());
    }

    [Fact]
    public async Task A_merchant_cancels_a_withdrawal_in_review_or_queued_and_the_reservation_returns()
    {
        var (_, client) = await FundedMerchantAsync(1000m);
        var queued = (await WithdrawAsync(client, Usdt("100"))).Body.Str("id");
        var review = (await WithdrawAsync(client, Usdt("600"))).Body.Str("id");
        Assert.Equal(("298.000000", "702.000000"), await GatewayHost.UsdtTronAsync(client));

        Assert.Equal("cancelled", (await client.PostJsonAsync($"/v1/withdrawals/{queued}/cancel", "{}")).Body.Str("status"));
        Assert.Equal("cancelled", (await client.PostJsonAsync($"/v1/withdrawals/{review}/cancel", "{}")).Body.Str("status"));
        // Cancelling again answers the cancelled withdrawal; it is released once.
        Assert.Equal((200, "cancelled"), ((await client.PostJsonAsync($"/v1/withdrawals/{review}/cancel", "{}")).Status, "cancelled"));
        await host.RunDueWorkAsync();
        Assert.Equal(("1000.000000", "0.000000"), await GatewayHost.UsdtTronAsync(client));

        using var admin = host.ClientWith(GatewayHost.AdminKey);
        HttpJson.AssertProblem(await admin.PostJsonAsync($"/v1/admin/withdrawals/{review}/approve", "{}"), 409, "INVALID_STATE_TRANSITION");
        Assert.Equal(2, (await client.GetJsonAsync("/v1/withdrawals?status=cancelled")).Body.GetProperty("pagination").GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Amounts_below_the_minimum_and_addresses_of_another_network_are_refused_before_anything_is_reserved()
    {
        var (merchantId, client) = await FundedMerchantAsync(100m);
        await host.CreditLiveDepositAsync(merchantId, "BTC", "btc", 100_000_000);

        HttpJson.AssertProblem(await WithdrawAsync(client, Usdt("4.99")), 400, "AMOUNT_BELOW_MINIMUM");
        HttpJson.AssertProblem(await WithdrawAsync(client, """{"asset":"BTC","network":"btc","amount":"0.0004","address":"bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"}"""), 400, "AMOUNT_BELOW_MINIMUM");
        HttpJson.AssertProblem(await WithdrawAsync(client, Usdt("10", BtcAddress)), 400, "INVALID_ADDRESS");
        HttpJson.AssertProblem(await WithdrawAsync(client, $$"""{"asset":"BTC","network":"btc","amount":"0.001","address":"{{TronAddress}}"}"""), 400, "INVALID_ADDRESS");
        HttpJson.AssertProblem(await WithdrawAsync(client, """{"asset":"ETH","network":"eth","amount":"0.01","address":"0x27b1fdb04752bbc536007a920d24acb045561c2"}"""), 400, "INVALID_ADDRESS");
        HttpJson.AssertProblem(await WithdrawAsync(client, Usdt("10", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u")), 400, "INVALID_ADDRESS");
        HttpJson.AssertProblem(await WithdrawAsync(client, """{"asset":"USDT","network":"doge","amount":"10","address":"x"}"""), 400, "UNSUPPORTED_NETWORK");
        HttpJson.AssertProblem(await WithdrawAsync(client, """{"asset":"USDT","network":"sandbox","amount":"10","address":"x"}"""), 400, "UNSUPPORTED_NETWORK");
        HttpJson.AssertProblem(await WithdrawAsync(client, Usdt("1.1234567")), 400, "INVALID_AMOUNT_FORMAT");
        HttpJson.AssertProblem(await WithdrawAsync(client, Usdt("ten")), 400, "INVALID_AMOUNT_FORMAT");
        HttpJson.AssertProblem(await WithdrawAsync(client, Usdt("0")), 400, "INVALID_AMOUNT_RANGE");
        HttpJson.AssertProblem(await WithdrawAsync(client, """{"asset":"USDT","network":"tron","amount":"10"}"""), 400, "VALIDATION_FAILED");
        HttpJson.AssertProblem(await WithdrawAsync(client, """{"asset":"USDT","network":"tron","amount":"10","address":"T","beneficiary_id":"nope"}"""), 400, "VALIDATION_FAILED");
        HttpJson.AssertProblem(await WithdrawAsync(client, """{"asset":["USDT"],"network":"tron","amount":"10","address":"T"}"""), 400, "VALIDATION_FAILED");
        HttpJson.AssertProblem(await WithdrawAsync(client, "{"), 400, "VALIDATION_FAILED");

        var btc = await WithdrawAsync(client, $$"""{"asset":"btc","network":"btc","amount":"0.0005","address":"{{BtcAddress.ToUpperInvariant()}}"}""");
        Assert.True(btc.Status == 201, btc.Body.ToString());
        Assert.Equal(("BTC", "0.00050000", "0.00005000", "0.00055000", BtcAddress), (btc.Body.Str("balance_asset"), btc.Body.Str("amount"), btc.Body.Str("fee"), btc.Body.Str("total_debit"), btc.Body.Str("address")));
        Assert.Equal(("100.000000", "0.000000"), await GatewayHost.UsdtTronAsync(client));
    }

    [Fact]
    public async Task Test_mode_keys_cannot_withdraw_and_keys_need_the_withdrawals_scope()
    {
        var (merchantId, liveKey, testKey) = await host.CreateMerchantAsync();
        using var admin = host.ClientWith(GatewayHost.AdminKey);
        var scoped = (await admin.PostJsonAsync($"/v1/merchants/{merchantId}/api-keys", """{"mode":"test","scopes":["withdrawals:write"]}""")).Body.Str("key");

        HttpJson.AssertProblem(await WithdrawAsync(host.ClientWith(scoped), Usdt("10")), 400, "WITHDRAWALS_DISABLED_IN_SANDBOX");
        HttpJson.AssertProblem(await WithdrawAsync(host.ClientWith(scoped), """{"asset":"USDT","network":"sandbox","amount":"10","address":"sbx_0000000000000000000000000000000000000000"}"""), 400, "WITHDRAWALS_DISABLED_IN_SANDBOX");
        // Default keys read balances and withdrawals but cannot withdraw until the merchant is granted withdrawals:write.
        HttpJson.AssertProblem(await WithdrawAsync(host.ClientWith(liveKey), Usdt("10")), 403, "FORBIDDEN");
        HttpJson.AssertProblem(await WithdrawAsync(host.ClientWith(testKey), Usdt("10")), 403, "FORBIDDEN");
        Assert.Equal(200, (await host.ClientWith(liveKey).GetJsonAsync("/v1/withdrawals")).Status);
        Assert.Equal(401, (await host.Http.GetJsonAsync("/v1/withdrawals")).Status);
    }

    [Fact]
    public async Task Beneficiaries_are_saved_validated_used_for_payouts_and_invisible_to_other_merchants()
    {
        var (_, client) = await FundedMerchantAsync(100m);
        var (_, other) = await FundedMerchantAsync(100m, "Other");

        HttpJson.AssertProblem(await client.PostJsonAsync("/v1/beneficiaries", $$"""{"network":"tron","address":"{{BtcAddress}}"}"""), 400, "INVALID_ADDRESS");
        HttpJson.AssertProblem(await client.PostJsonAsync("/v1/beneficiaries", $$"""{"network":"sandbox","address":"{{TronAddress}}"}"""), 400, "UNSUPPORTED_NETWORK");
        HttpJson.AssertProblem(await client.PostJsonAsync("/v1/beneficiaries", """{"network":"tron"}"""), 400, "VALIDATION_FAILED");
        var saved = await client.PostJsonAsync("/v1/beneficiaries", $$"""{"network":"tron","address":"{{TronAddress}}","label":"Supplier A"}""", r => r.Headers.Add("Idempotency-Key", "b-1"));
        Assert.True(saved.Status == 201, saved.Body.ToString());
        var id = saved.Body.Str("id");
        Assert.Equal(id, (await client.PostJsonAsync("/v1/beneficiaries", $$"""{"network":"tron","address":"{{TronAddress}}","label":"Supplier A"}""", r => r.Headers.Add("Idempotency-Key", "b-1"))).Body.Str("id"));
        Assert.Equal([id], (await client.GetJsonAsync("/v1/beneficiaries")).Body.GetProperty("items").EnumerateArray().Select(b => b.Str("id")));
        Assert.Equal(("tron", TronAddress, "Supplier A"), ((await client.GetJsonAsync($"/v1/beneficiaries/{id}")).Body.Str("network"), (await client.GetJsonAsync($"/v1/beneficiaries/{id}")).Body.Str("address"), (await client.GetJsonAsync($"/v1/beneficiaries/{id}")).Body.Str("label")));

        var payout = await WithdrawAsync(client, $$"""{"asset":"USDT","amount":"30","beneficiary_id":"{{id}}","reference":"inv-42","metadata":{"batch":"7"} }""");
        Assert.True(payout.Status == 201, payout.Body.ToString());
        Assert.Equal((id, TronAddress, "tron", "inv-42", "7"), (payout.Body.Str("beneficiary_id"), payout.Body.Str("address"), payout.Body.Str("network"), payout.Body.Str("reference"), payout.Body.GetProperty("metadata").Str("batch")));
        HttpJson.AssertProblem(await WithdrawAsync(client, $$"""{"asset":"BTC","network":"btc","amount":"0.001","beneficiary_id":"{{id}}"}"""), 400, "UNSUPPORTED_NETWORK");
        Assert.Equal(("69.000000", "31.000000"), await GatewayHost.UsdtTronAsync(client));

        // Another merchant sees none of it: its beneficiaries and withdrawals are 404, never 403.
        HttpJson.AssertProblem(await other.GetJsonAsync($"/v1/beneficiaries/{id}"), 404, "NOT_FOUND");
        HttpJson.AssertProblem(await other.SendJsonAsync(HttpMethod.Delete, $"/v1/beneficiaries/{id}"), 404, "NOT_FOUND");
        HttpJson.AssertProblem(await WithdrawAsync(other, $$"""{"asset":"USDT","amount":"30","beneficiary_id":"{{id}}"}"""), 404, "NOT_FOUND");
        HttpJson.AssertProblem(await other.GetJsonAsync($"/v1/withdrawals/{payout.Body.Str("id")}"), 404, "NOT_FOUND");
        HttpJson.AssertProblem(await other.PostJsonAsync($"/v1/withdrawals/{payout.Body.Str("id")}/cancel", "{}"), 404, "NOT_FOUND");
        Assert.Empty((await other.GetJsonAsync("/v1/withdrawals")).Body.GetProperty("items").EnumerateArray());
        Assert.Empty((await other.GetJsonAsync("/v1/beneficiaries")).Body.GetProperty("items").EnumerateArray());
        Assert.Equal(("100.000000", "0.000000"), await GatewayHost.UsdtTronAsync(other));

        Assert.Equal(204, (await client.SendJsonAsync(HttpMethod.Delete, $"/v1/beneficiaries/{id}")).Status);
        HttpJson.AssertProblem(await client.GetJsonAsync($"/v1/beneficiaries/{id}"), 404, "NOT_FOUND");
        Assert.Equal(TronAddress, (await client.GetJsonAsync($"/v1/withdrawals/{payout.Body.Str("id")}")).Body.Str("address"));
    }

    [Fact]
    public async Task An_operator_records_a_tron_payout_made_by_hand_and_the_reservation_leaves_the_balance_once()
    {
        var (_, client) = await FundedMerchantAsync(100m);
        var endpoint = await client.PostJsonAsync("/v1/webhook-endpoints", $$"""{"url":"{{receiver.Url()}}","events":["withdrawal.completed"]}""");
        Assert.True(endpoint.Status == 201, endpoint.Body.ToString());
        var created = await WithdrawAsync(client, Usdt("20"), key: "manual-1");
        Assert.True(created.Status == 201, created.Body.ToString());
        var id = created.Body.Str("id");
        using var admin = host.ClientWith(GatewayHost.AdminKey);
        const string Txid = "7C3E0F0C5C0F2B8A1D9E4F6A3B2C1D0E9F8A7B6C5D4E3F2A1B0C9D8E7F6A5B4C";

        HttpJson.AssertProblem(await admin.PostJsonAsync($"/v1/admin/withdrawals/{id}/record-payout", """{"txid":"abc"}"""), 400, "VALIDATION_FAILED");
        HttpJson.AssertProblem(await admin.PostJsonAsync($"/v1/admin/withdrawals/{Guid.NewGuid()}/record-payout", $$"""{"txid":"{{Txid}}"}"""), 404, "NOT_FOUND");
        HttpJson.AssertProblem(await client.PostJsonAsync($"/v1/admin/withdrawals/{id}/record-payout", $$"""{"txid":"{{Txid}}"}"""), 401, "UNAUTHORIZED");

        var recorded = await admin.PostJsonAsync($"/v1/admin/withdrawals/{id}/record-payout", $$"""{"txid":"{{Txid}}"}""");
        Assert.True(recorded.Status == 200, recorded.Body.ToString());
        Assert.Equal(("completed", Txid.ToLowerInvariant(), "manual"), (recorded.Body.Str("status"), recorded.Body.Str("txid"), recorded.Body.Str("settlement_id")));
        Assert.Equal(JsonValueKind.Null, recorded.Body.GetProperty("proof_id").ValueKind);

        // The same record again changes nothing; another txid or a cancellation is refused.
        Assert.Equal(200, (await admin.PostJsonAsync($"/v1/admin/withdrawals/{id}/record-payout", $$"""{"txid":"{{Txid}}"}""")).Status);
        HttpJson.AssertProblem(await admin.PostJsonAsync($"/v1/admin/withdrawals/{id}/record-payout", $$"""{"txid":"{{new string('1', 64)}}"}"""), 409, "INVALID_STATE_TRANSITION");
        HttpJson.AssertProblem(await client.PostJsonAsync($"/v1/withdrawals/{id}/cancel", "{}"), 409, "INVALID_STATE_TRANSITION");
        HttpJson.AssertProblem(await client.GetJsonAsync($"/v1/proofs/{id}"), 404, "NOT_FOUND");
        await host.RunDueWorkAsync();
        Assert.Equal(("79.000000", "0.000000"), await GatewayHost.UsdtTronAsync(client));

        var sender = host.Services.GetRequiredService<WebhookSender>();
        for (var round = 0; round < 5 && receiver.Received.IsEmpty; round++)
        {
            await host.RunDueWorkAsync();
            await sender.WhenIdleAsync();
        }

        var completed = JsonDocument.Parse(Assert.Single(receiver.Received).Body).RootElement;
        Assert.Equal(("withdrawal.completed", id, "completed"), (completed.Str("type"), completed.GetProperty("data").GetProperty("object").Str("id"), completed.GetProperty("data").GetProperty("object").Str("status")));
    }

    [Fact]
    public async Task Settlement_and_proof_endpoints_answer_404_or_400_for_what_they_cannot_serve()
    {
        var (_, client) = await FundedMerchantAsync(100m);
        var queued = await WithdrawAsync(client, Usdt("20"), key: "s-1");
        Assert.True(queued.Status == 201, queued.Body.ToString());
        using var admin = host.ClientWith(GatewayHost.AdminKey);

        // No network of this gateway has a payout wallet: nothing to run, and the operator is told which setting is missing.
        HttpJson.AssertProblem(await admin.PostJsonAsync("/v1/admin/settlements/run", "{}"), 400, "VALIDATION_FAILED");
        var ltc = await admin.PostJsonAsync("/v1/admin/settlements/run?network=ltc", "{}");
        HttpJson.AssertProblem(ltc, 400, "UNSUPPORTED_NETWORK");
        Assert.Contains("PayoutWallet", ltc.Body.Str("detail"), StringComparison.Ordinal);
        HttpJson.AssertProblem(await client.PostJsonAsync("/v1/admin/settlements/run?network=ltc", "{}"), 401, "UNAUTHORIZED");

        foreach (var path in new[] { $"/v1/settlements/{Guid.NewGuid()}", "/v1/settlements/not-an-id", $"/v1/proofs/{queued.Body.Str("id")}", $"/v1/proofs/{Guid.NewGuid()}", "/v1/proofs/x" })
        {
            HttpJson.AssertProblem(await client.GetJsonAsync(path), 404, "NOT_FOUND");
        }

        HttpJson.AssertProblem(await admin.GetJsonAsync($"/v1/admin/settlements/{Guid.NewGuid()}"), 404, "NOT_FOUND");
        HttpJson.AssertProblem(await admin.PostJsonAsync($"/v1/admin/settlements/{Guid.NewGuid()}/fail", """{"reason":"stuck"}"""), 404, "NOT_FOUND");
        HttpJson.AssertProblem(await admin.PostJsonAsync($"/v1/admin/settlements/{Guid.NewGuid()}/fail", "{}"), 400, "VALIDATION_FAILED");
        Assert.Equal("queued", (await client.GetJsonAsync($"/v1/withdrawals/{queued.Body.Str("id")}")).Body.Str("status"));
    }
}
