using System.Globalization;
using System.Text.Json;
using CryptoPay.Api.Compatibility.Ippan;
using CryptoPay.Api.Tests.Deposits;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Ledger;
using CryptoPay.TestSupport.Litecoin;

namespace CryptoPay.Api.Tests.Compatibility;

[CollectionDefinition("litecoin")]
public sealed class LitecoinCollection : ICollectionFixture<LitecoinFixture>;

/// <summary>
/// ippan.txt's money out on a real litecoind -regtest: payouts to a beneficiary and an automatic settlement are paid in
/// one settlement batch by the operator's node wallet; the settlement and the payout's proof answer through the profile
/// as the document shows them, and the proof's hash is the Merkle root the chain carries.
/// </summary>
[Collection("litecoin")]
public sealed class IppanSettlementTests(LitecoinFixture litecoin) : ProfileTestHost
{
    private const string Base = "/compat/ippan/v1";
    private const int Confirmations = 2;

    private readonly LitecoinRegtestNode node = litecoin.Node;
    private readonly string hotWallet = $"hot-{Guid.NewGuid():N}";
    private Dictionary<string, string?> settings = [];
    private string miner = "";

    protected override string KeyFormat => KeyFormats.Ippan;

    protected override IDictionary<string, string?> Settings => settings;

    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);

    public override async Task InitializeAsync()
    {
        miner = await node.Wallet.GetNewAddressAsync("bech32");
        if (await node.Rpc.GetBlockCountAsync() < 101)
        {
            await node.Rpc.GenerateToAddressAsync(101, miner);
        }

        // The operator's hot wallet: a wallet of the node, funded from the test wallet.
        await node.Rpc.CreateWalletAsync(hotWallet);
        await node.Wallet.SendToAddressAsync(await node.Rpc.ForWallet(hotWallet).GetNewAddressAsync("bech32"), 500_000_000);
        await node.Rpc.GenerateToAddressAsync(1, miner);
        var (user, password) = node.RpcLogin;
        settings = new Dictionary<string, string?>
        {
            ["Chains:Networks:ltc:Chain"] = "regtest",
            ["Chains:Networks:ltc:RpcUrl"] = node.Rpc.Endpoint.ToString(),
            ["Chains:Networks:ltc:RpcUser"] = user,
            ["Chains:Networks:ltc:RpcPassword"] = password,
            ["Chains:Networks:ltc:AccountKey"] = LiveInvoiceTests.ChainSettings()["Chains:Networks:ltc:AccountKey"],
            ["Chains:Networks:ltc:Confirmations"] = Confirmations.ToString(CultureInfo.InvariantCulture),
            ["Chains:Networks:ltc:StartHeight"] = (await node.Rpc.GetBlockCountAsync()).ToString(CultureInfo.InvariantCulture),
            ["Chains:Networks:ltc:PayoutWallet"] = hotWallet,
            // Batches open when the test asks (the operator's run), not when the clock passes a window.
            ["Withdrawals:SettlementInterval"] = "7.00:00:00",
        };
        await base.InitializeAsync();
    }

    private static Task<(int Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(HttpClient client, string path, string body, string? idempotencyKey = null) =>
        client.PostJsonAsync(Base + path, body, r =>
        {
            if (idempotencyKey is not null)
            {
                r.Headers.Add("Idempotency-Key", idempotencyKey);
            }
        });

    [Fact]
    public async Task A_payout_and_an_automatic_settlement_are_paid_in_one_settlement_whose_settlement_and_proof_answer_as_documented()
    {
        var key = await IssueKeyAsync("""{"mode":"live","format":"ippan","scopes":["withdrawals:write","balances:read"]}""");
        using var client = Client(key, "Authorization");
        using var v1 = Host.ClientWith(key);
        var address = await node.Wallet.GetNewAddressAsync("bech32");
        var beneficiary = await PostAsync(client, "/beneficiaries", $$"""{"network": "ltc", "address": "{{address}}", "label": "Contractor"}""");
        Assert.True(beneficiary.Status == 201, beneficiary.Body.ToString());
        var beneficiaryId = beneficiary.Body.Str("id");

        // Each hour the balance left is paid out to the same beneficiary, listing the payments it came from.
        var setting = await v1.SendJsonAsync(HttpMethod.Put, "/v1/settlement-settings/LTC",
            $$"""{"beneficiary_id": "{{IppanIds.Parse(IppanIds.Beneficiary, beneficiaryId)}}", "schedule": "hourly"}""");
        Assert.True(setting.Status == 200, setting.Body.ToString());
        var deposit = await Host.CreditLiveDepositAsync(MerchantId, "LTC", "ltc", 100_000_000);
        var paymentId = IppanIds.Of(IppanIds.Payment, (await Host.Grains.GetGrain<ILedgerOutputGrain>(deposit).Get()).InvoiceId);

        // The document's payout in LTC: 5,000,000 minor units (litoshis) are 0.05 LTC.
        var created = await PostAsync(client, "/payouts", $$"""
            {
                "amount": 5000000,
                "currency": "LTC",
                "beneficiary_id": "{{beneficiaryId}}",
                "reference": "contractor-march-2026",
                "metadata": { "department": "engineering" }
              }
            """, "po-ltc-1");
        Assert.True(created.Status == 201, created.Body.ToString());
        var payoutId = created.Body.Str("id");
        Assert.Equal(("processing", "5000000", "100000"), (created.Body.Str("status"), created.Body.GetProperty("amount").GetRawText(), created.Body.GetProperty("fee").GetRawText()));
        await Host.AdvanceAsync(TimeSpan.FromHours(1));

        using var admin = Host.ClientWith(GatewayHost.AdminKey);
        var run = await admin.PostJsonAsync("/v1/admin/settlements/run?network=ltc", "{}");
        Assert.True(run.Status == 201, run.Body.ToString());
        Assert.Equal(2, run.Body.GetProperty("withdrawal_ids").GetArrayLength());

        var processing = (await client.GetJsonAsync($"{Base}/payouts/{payoutId}")).Body;
        Assert.Equal("processing", processing.Str("status"));
        var settlementId = processing.Str("settlement_id");
        Assert.Equal(IppanIds.Of(IppanIds.Settlement, Guid.Parse(run.Body.Str("id"))), settlementId);
        var proofId = IppanIds.Of(IppanIds.Proof, IppanIds.Parse(IppanIds.Payout, payoutId)!.Value);
        Assert.EndsWith($"{Base}/proofs/{proofId}", processing.Str("proof_url"), StringComparison.Ordinal);
        var notReady = await client.GetJsonAsync($"{Base}/proofs/{proofId}");
        Assert.True(notReady.Status == 409, notReady.Body.ToString());
        Assert.Equal("PROOF_NOT_READY", notReady.Body.GetProperty("error").Str("code"));

        await node.Rpc.GenerateToAddressAsync(Confirmations, miner);
        JsonElement settlement = default;
        for (var round = 0; round < 30; round++)
        {
            await Host.AdvanceAsync(TimeSpan.FromSeconds(10));
            settlement = (await client.GetJsonAsync($"{Base}/settlements/{settlementId}")).Body;
            if (settlement.Str("status") == "finalized")
            {
                break;
            }
        }

        // GET /settlements/:id as documented: the key's payouts in it, total in minor units, the payments they settle, the proof hash.
        Assert.Equal(("settlement", settlementId, "finalized", "LTC"), (settlement.Str("object"), settlement.Str("id"), settlement.Str("status"), settlement.Str("currency")));
        var automatic = (await v1.GetJsonAsync("/v1/withdrawals?page_size=10")).Body.GetProperty("items").EnumerateArray().Single(w => w.Str("reference") == "auto-settlement");
        Assert.Equal("94800000", IppanAmounts.ToMinor(decimal.Parse(automatic.Str("amount"), CultureInfo.InvariantCulture), 8).ToString(CultureInfo.InvariantCulture));
        Assert.Equal("99800000", settlement.GetProperty("total").GetRawText());
        Assert.Equal([paymentId], settlement.GetProperty("payment_ids").EnumerateArray().Select(p => p.GetString()));
        Assert.Contains(payoutId, settlement.GetProperty("payout_ids").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("0x" + run.Body.Str("proof_hash"), settlement.Str("proof_hash"));
        Assert.Matches("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$", settlement.Str("finalized_at"));

        // GET /proofs/:id as documented: the payout's proof, anchored by the settlement's hash in a block, verified once final.
        var proof = await client.GetJsonAsync($"{Base}/proofs/{proofId}");
        Assert.True(proof.Status == 200, proof.Body.ToString());
        var body = proof.Body;
        foreach (var field in new[] { "id", "object", "type", "settlement_id", "hash", "block_height", "verified", "verification_url", "created_at" })
        {
            Assert.True(body.TryGetProperty(field, out _), $"{field} is missing from {body}");
        }

        Assert.Equal(("proof", proofId, "settlement", settlementId, settlement.Str("proof_hash")), (body.Str("object"), body.Str("id"), body.Str("type"), body.Str("settlement_id"), body.Str("hash")));
        Assert.True(body.GetProperty("verified").GetBoolean());
        // The block at that height on the node is the one holding the payout.
        Assert.Equal(await node.Rpc.GetBlockHashAsync(body.GetProperty("block_height").GetInt64()), body.Str("block_hash"));
        Assert.Equal(await node.Rpc.GetBlockCountAsync() - Confirmations + 1, body.GetProperty("block_height").GetInt64());
        Assert.Equal("finalized", (await client.GetJsonAsync($"{Base}/payouts/{payoutId}")).Body.Str("status"));

        // The verification data behind the url: the Merkle branch from this payout to the same root.
        var full = await v1.GetJsonAsync(new Uri(body.Str("verification_url")).PathAndQuery);
        Assert.True(full.Status == 200, full.Body.ToString());
        Assert.Equal(settlement.Str("proof_hash"), "0x" + full.Body.Str("merkle_root"));
    }
}
