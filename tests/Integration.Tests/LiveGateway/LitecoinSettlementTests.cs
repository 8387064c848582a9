using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Grains.Hosting;
using CryptoPay.ProcessSupport;
using CryptoPay.TestSupport.Litecoin;
using CryptoPay.TestSupport.Postgres;
using CryptoPay.TestSupport.Proofs;

namespace CryptoPay.Integration.Tests.LiveGateway;

/// <summary>
/// Money out on a real litecoind -regtest, through two CryptoPay.Silo processes over PostgreSQL: merchants' balances come
/// from paid invoices; their withdrawals are paid by the operator's node wallet (funded by mining) in one settlement
/// transaction per batch, with the batch's Merkle root in an OP_RETURN output; the test reads what the chain holds.
/// </summary>
[Collection("live-gateway")]
public sealed class LitecoinSettlementTests(LitecoinFixture litecoin, PostgresFixture postgres) : IAsyncLifetime
{
    private const int Confirmations = 2;
    private const long Deposit = 100_000_000; // 1 LTC per merchant
    private const long WithdrawalFee = 100_000; // API.md default: LTC 0.001
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(240);
    private static readonly TimeSpan WatchTimeout = TimeSpan.FromSeconds(60);

    private readonly LitecoinRegtestNode node = litecoin.Node;
    private readonly OperatorAccount account = OperatorAccount.Fresh(Network.Litecoin(NetworkChain.Regtest), ExtendedKeyVersion.Vpub);
    private readonly string hotWallet = $"hot-{Guid.NewGuid():N}";
    private readonly CancellationTokenSource timeout = new(TestTimeout);
    private string miner = "";

    private CancellationToken Ct => timeout.Token;

    public async Task InitializeAsync()
    {
        miner = await node.Wallet.GetNewAddressAsync("bech32");
        if (await node.Rpc.GetBlockCountAsync() < 101)
        {
            await node.Rpc.GenerateToAddressAsync(101, miner);
        }

        // The operator's hot wallet: a wallet of the node, funded from the test wallet.
        await node.Rpc.CreateWalletAsync(hotWallet, Ct);
        var hot = node.Rpc.ForWallet(hotWallet);
        await node.Wallet.SendToAddressAsync(await hot.GetNewAddressAsync("bech32", Ct), 5 * Deposit, Ct);
        await node.Rpc.GenerateToAddressAsync(1, miner, Ct);
    }

    public Task DisposeAsync()
    {
        timeout.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Fifty_withdrawals_of_five_merchants_are_paid_in_one_transaction_with_the_merkle_root_and_exactly_their_amounts()
    {
        await using var gateway = await StartGatewayAsync();
        var merchants = await FundedMerchantsAsync(gateway, 5);
        var withdrawals = new List<(string Id, HttpClient Merchant, string Address, long Units)>();
        foreach (var (merchant, m) in merchants.Select((c, m) => (c, m)))
        {
            for (var i = 0; i < 10; i++)
            {
                var units = 1_000_000 + (m * 10 + i) * 10_000; // 0.01 LTC (the minimum) and up, each different
                var address = await node.Wallet.GetNewAddressAsync(i % 2 == 0 ? "bech32" : "legacy", Ct);
                withdrawals.Add((await WithdrawAsync(merchant, address, units, $"w-{m}-{i}"), merchant, address, units));
            }
        }

        await using var receiver = await WebhookReceiver.StartAsync(Ct);
        var (endpointStatus, endpoint) = await merchants[0].SendJsonAsync(HttpMethod.Post, "/v1/webhook-endpoints",
            JsonSerializer.Serialize(new { url = receiver.Url, events = new[] { "withdrawal.completed", "settlement.finalized" } }), Ct);
        Assert.True(endpointStatus == 201, $"POST /v1/webhook-endpoints answered {endpointStatus}: {endpoint}");

        using var admin = GatewayCluster.Client(gateway.Silos[0], GatewayCluster.AdminKey);
        var (runStatus, batch) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/admin/settlements/run?network=ltc", null, Ct);
        Assert.True(runStatus == 201, $"POST /v1/admin/settlements/run answered {runStatus}: {batch}\n{gateway.Output}");
        Assert.Equal(("broadcast", 50), (batch.Str("status"), batch.GetProperty("withdrawal_ids").GetArrayLength()));
        var settlementId = batch.Str("id");
        var txid = batch.Str("txid");
        Assert.Equal(JsonValueKind.Null, batch.GetProperty("fee").ValueKind);

        // Nothing else is queued: the next window has nothing to pay.
        var (againStatus, _) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/admin/settlements/run?network=ltc", null, Ct);
        Assert.Equal(204, againStatus);

        // One transaction: each withdrawal's output, the commitment, at most one change output.
        var raw = await node.Rpc.GetRawTransactionAsync(txid, verbose: true, Ct);
        var outputs = raw.Details!.Outputs;
        Assert.InRange(outputs.Count, 51, 52);
        foreach (var (w, index) in withdrawals.Select((w, i) => (w, i)))
        {
            Assert.Single(outputs, o => o.Address == w.Address && o.Value == w.Units);
        }

        var opReturn = Assert.Single(outputs, o => o.ScriptPubKeyHex.StartsWith("6a25", StringComparison.Ordinal));
        Assert.Equal("6a25" + Convert.ToHexStringLower(Encoding.ASCII.GetBytes("CPAY")) + "01" + batch.Str("proof_hash"), opReturn.ScriptPubKeyHex);
        foreach (var (merchant, _) in merchants.Select((c, m) => (c, m)))
        {
            var (status, processing) = await merchant.SendJsonAsync(HttpMethod.Get, $"/v1/withdrawals?status=processing", null, Ct);
            Assert.True(status == 200 && processing.GetProperty("items").GetArrayLength() == 10, $"{status}: {processing}");
        }

        // One block: confirmed, not final; a reorganisation takes it out (the node puts it back in its mempool) and the
        // batch goes back to broadcast; mined again and buried, it is final, still paid once.
        var first = (await node.Rpc.GenerateToAddressAsync(1, miner, Ct))[0];
        await gateway.WaitForSettlementAsync(admin, settlementId, "confirmed", WatchTimeout, Ct);
        await node.Rpc.InvalidateBlockAsync(first, Ct);
        await gateway.WaitForSettlementAsync(admin, settlementId, "broadcast", WatchTimeout, Ct);
        // Another coinbase address: the same block again (same second, same mempool) would be the invalidated one.
        await node.Rpc.GenerateToAddressAsync(Confirmations, await node.Wallet.GetNewAddressAsync("bech32", Ct), Ct);
        var final = await gateway.WaitForSettlementAsync(admin, settlementId, "finalized", WatchTimeout, Ct);
        Assert.NotEqual(first, Assert.Single(final.GetProperty("transactions").EnumerateArray()).Str("block_hash"));
        var fee = decimal.Parse(final.Str("fee"), CultureInfo.InvariantCulture);
        Assert.InRange(fee, 0.00000001m, 0.01m);

        foreach (var (merchant, m) in merchants.Select((c, m) => (c, m)))
        {
            var mine = withdrawals.Where(w => w.Merchant == merchant).ToList();
            foreach (var w in mine)
            {
                var (status, withdrawal) = await merchant.SendJsonAsync(HttpMethod.Get, $"/v1/withdrawals/{w.Id}", null, Ct);
                Assert.True(status == 200, $"{status}: {withdrawal}");
                Assert.Equal(("completed", txid, settlementId, w.Id), (withdrawal.Str("status"), withdrawal.Str("txid"), withdrawal.Str("settlement_id"), withdrawal.Str("proof_id")));
            }

            // The merchant sees its own payouts in the batch, and its balance less exactly what it withdrew.
            var (seen, settlement) = await merchant.SendJsonAsync(HttpMethod.Get, $"/v1/settlements/{settlementId}", null, Ct);
            Assert.True(seen == 200, $"{seen}: {settlement}");
            Assert.Equal(mine.Select(w => w.Id).Order(), settlement.GetProperty("withdrawal_ids").EnumerateArray().Select(e => e.GetString()!).Order());
            Assert.Equal(Units(mine.Sum(w => w.Units)), decimal.Parse(settlement.GetProperty("total").Str("LTC"), CultureInfo.InvariantCulture));
            Assert.False(settlement.TryGetProperty("entries", out var entries) && entries.ValueKind != JsonValueKind.Null);
            var withdrawn = mine.Sum(w => w.Units + WithdrawalFee);
            await gateway.WaitForBalanceAsync(merchant, "LTC", (Units(GatewayCluster.NetOf(Deposit) - withdrawn), 0m), WatchTimeout, Ct);
        }

        // The first merchant's endpoint heard of the batch once, seeing only its own ten payouts, and of each of them.
        var finalized = Assert.Single(await receiver.WaitForAsync(settlementId, ["settlement.finalized"], WatchTimeout, () => gateway.Output, Ct));
        Assert.True(finalized.IsSignedWith(endpoint.Str("secret")));
        var seenByFirst = finalized.Json.GetProperty("data").GetProperty("object");
        Assert.Equal(("finalized", 10), (seenByFirst.Str("status"), seenByFirst.GetProperty("withdrawal_ids").GetArrayLength()));
        foreach (var w in withdrawals.Where(w => w.Merchant == merchants[0]))
        {
            await receiver.WaitForAsync(w.Id, ["withdrawal.completed"], WatchTimeout, () => gateway.Output, Ct);
        }

        // Every payout's proof passes the independent checker (Python, hashlib and the node's RPC only); a tampered one fails.
        var (user, password) = node.RpcLogin;
        foreach (var w in withdrawals)
        {
            var (proofStatus, proof) = await w.Merchant.SendJsonAsync(HttpMethod.Get, $"/v1/proofs/{w.Id}", null, Ct);
            Assert.True(proofStatus == 200, $"GET /v1/proofs/{w.Id} answered {proofStatus}: {proof}");
            Assert.Equal((settlementId, txid, batch.Str("proof_hash")), (proof.Str("settlement_id"), proof.Str("txid"), proof.Str("merkle_root")));
            var check = await PythonProofChecker.CheckAsync(proof.GetRawText(), node.Rpc.Endpoint, user, password, Ct);
            Assert.True(check.Passed, $"The checker refused the proof of {w.Id}: {check.Output}\n{check.Error}\n{proof}");
        }

        var (_, sample) = await withdrawals[7].Merchant.SendJsonAsync(HttpMethod.Get, $"/v1/proofs/{withdrawals[7].Id}", null, Ct);
        var tampered = sample.GetRawText().Replace($"\"amount_units\":\"{withdrawals[7].Units}\"", $"\"amount_units\":\"{withdrawals[7].Units + 1}\"", StringComparison.Ordinal);
        Assert.NotEqual(sample.GetRawText(), tampered);
        Assert.False((await PythonProofChecker.CheckAsync(tampered, node.Rpc.Endpoint, user, password, Ct)).Passed);

        // Another merchant's withdrawal has no proof for this key; a settlement paying none of its withdrawals does not exist for it.
        var (foreign, _) = await merchants[0].SendJsonAsync(HttpMethod.Get, $"/v1/proofs/{withdrawals[^1].Id}", null, Ct);
        Assert.Equal(404, foreign);

        // The operator's ledger: the network fee the transaction paid, once, from the fees charged.
        var ledger = await gateway.LedgerAsync(Ct);
        var movement = Assert.Single(Assert.Single(ledger.Settlements!).Movements);
        Assert.Equal(Units((long)movement.AmountOn("network-fees:ltc")), fee);
    }

    [Theory]
    [InlineData(FaultPoints.SettlementSigned)]
    [InlineData(FaultPoints.SettlementBroadcast)]
    public async Task A_silo_killed_between_signing_broadcast_and_recording_leaves_the_other_to_pay_each_withdrawal_exactly_once(string crashAt)
    {
        var marker = Path.Combine(Path.GetTempPath(), $"cryptopay-fault-{Guid.NewGuid():N}");
        await using var gateway = await StartGatewayAsync(new Dictionary<string, string> { ["Faults__CrashAt"] = crashAt, ["Faults__Marker"] = marker });
        try
        {
            var merchant = Assert.Single(await FundedMerchantsAsync(gateway, 1));
            var withdrawals = new List<(string Id, string Address, long Units)>();
            for (var i = 0; i < 3; i++)
            {
                var address = await node.Wallet.GetNewAddressAsync("bech32", Ct);
                var units = 2_000_000 + i * 100_000;
                withdrawals.Add((await WithdrawAsync(merchant, address, units, $"crash-{i}"), address, units));
            }

            // The silo holding the batch dies at the fault point, in the middle of this request or of the call it made.
            using (var admin = GatewayCluster.Client(gateway.Silos[0], GatewayCluster.AdminKey))
            {
                try
                {
                    await admin.SendJsonAsync(HttpMethod.Post, "/v1/admin/settlements/run?network=ltc", null, Ct);
                }
                catch (HttpRequestException)
                {
                    // silo 0 was the one that died
                }
            }

            var victim = await gateway.FirstExitAsync(WatchTimeout, Ct);
            Assert.True(File.Exists(marker), $"A silo exited without reaching {crashAt}.\n{gateway.Output}");
            var survivor = gateway.Silos.Single(s => s != victim);
            using var operatorClient = GatewayCluster.Client(survivor, GatewayCluster.AdminKey);
            var id = SettlementIdOf("ltc", 1);

            // The survivor takes the batch over (once the dead silo is declared dead) and broadcasts the signed bytes it finds.
            var broadcast = await gateway.WaitForSettlementAsync(operatorClient, id, "broadcast", WatchTimeout, Ct, tolerateErrors: true);
            await node.Rpc.GenerateToAddressAsync(Confirmations, miner, Ct);
            var final = await gateway.WaitForSettlementAsync(operatorClient, id, "finalized", WatchTimeout, Ct);
            Assert.Equal(broadcast.Str("txid"), final.Str("txid"));
            foreach (var w in withdrawals)
            {
                Assert.Equal(w.Units, await node.Wallet.GetReceivedByAddressAsync(w.Address, 1, Ct));
            }

            using var survivorMerchant = GatewayCluster.Client(survivor, merchant.DefaultRequestHeaders.Authorization!.Parameter);
            var withdrawn = withdrawals.Sum(w => w.Units + WithdrawalFee);
            await gateway.WaitForBalanceAsync(survivorMerchant, "LTC", (Units(GatewayCluster.NetOf(Deposit) - withdrawn), 0m), WatchTimeout, Ct);
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task A_batch_whose_inputs_were_spent_elsewhere_before_its_broadcast_fails_and_every_reservation_returns()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"cryptopay-fault-{Guid.NewGuid():N}");
        await using var gateway = await StartGatewayAsync(new Dictionary<string, string> { ["Faults__PauseAt"] = FaultPoints.SettlementSigned, ["Faults__Marker"] = marker });
        try
        {
            var merchant = Assert.Single(await FundedMerchantsAsync(gateway, 1));
            var withdrawals = new List<(string Id, string Address)>();
            for (var i = 0; i < 2; i++)
            {
                var address = await node.Wallet.GetNewAddressAsync("bech32", Ct);
                withdrawals.Add((await WithdrawAsync(merchant, address, 3_000_000, $"spent-{i}"), address));
            }

            // The batch is signed and written; its silo waits before broadcasting it.
            using var admin = GatewayCluster.Client(gateway.Silos[0], GatewayCluster.AdminKey);
            var run = admin.SendJsonAsync(HttpMethod.Post, "/v1/admin/settlements/run?network=ltc", null, Ct);
            var waited = Stopwatch.StartNew();
            while (!File.Exists(marker))
            {
                Assert.True(waited.Elapsed < WatchTimeout, $"No silo reached the fault point.\n{gateway.Output}");
                await Task.Delay(50, Ct);
            }

            // Meanwhile the operator's hot wallet spends what the batch spends, elsewhere, and that is mined.
            var hot = node.Rpc.ForWallet(hotWallet);
            await hot.UnlockAllUnspentAsync(Ct);
            await hot.SweepAsync(await node.Wallet.GetNewAddressAsync("bech32", Ct), Ct);
            await node.Rpc.GenerateToAddressAsync(Confirmations, miner, Ct);
            File.Delete(marker);
            var (runStatus, batch) = await run;
            Assert.True(runStatus == 201, $"POST /v1/admin/settlements/run answered {runStatus}: {batch}");

            // The node refuses the signed bytes for good: the batch fails and the reservations return.
            var failed = await gateway.WaitForSettlementAsync(admin, batch.Str("id"), "failed", WatchTimeout, Ct);
            Assert.Contains("never confirm", failed.Str("reason"), StringComparison.Ordinal);
            foreach (var w in withdrawals)
            {
                var (status, withdrawal) = await merchant.SendJsonAsync(HttpMethod.Get, $"/v1/withdrawals/{w.Id}", null, Ct);
                Assert.True(status == 200 && withdrawal.Str("status") == "failed", $"{status}: {withdrawal}");
                Assert.Equal(0, await node.Wallet.GetReceivedByAddressAsync(w.Address, 0, Ct));
            }

            await gateway.WaitForBalanceAsync(merchant, "LTC", (Units(GatewayCluster.NetOf(Deposit)), 0m), WatchTimeout, Ct);
        }
        finally
        {
            File.Delete(marker);
        }
    }

    private static string SettlementIdOf(string network, long sequence) => Grains.Settlements.SettlementIds.For(network, sequence).ToString("D");

    private async Task<GatewayCluster> StartGatewayAsync(IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = await GatewayCluster.LitecoinChainsAsync(node, account.AccountKey, Confirmations, Ct);
        environment["Chains__Networks__ltc__PayoutWallet"] = hotWallet;
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return await GatewayCluster.StartAsync(postgres, environment, count: 2, Ct);
    }

    /// <summary>Merchants with a live key that may withdraw, each credited 1 LTC less the deposit fee by a paid invoice (one node transaction pays all).</summary>
    private async Task<List<HttpClient>> FundedMerchantsAsync(GatewayCluster gateway, int count)
    {
        using var admin = GatewayCluster.Client(gateway.Silos[0], GatewayCluster.AdminKey);
        var merchants = new List<HttpClient>();
        var payments = new Dictionary<string, long>();
        var invoices = new List<(HttpClient Merchant, string Id)>();
        for (var m = 0; m < count; m++)
        {
            var (merchantId, _) = await gateway.CreateMerchantAsync(Ct);
            var (keyStatus, key) = await admin.SendJsonAsync(HttpMethod.Post, $"/v1/merchants/{merchantId}/api-keys",
                """{"mode":"live","scopes":["withdrawals:write","balances:read","invoices:write","invoices:read","webhooks:write"]}""", Ct);
            Assert.True(keyStatus == 201, $"POST api-keys answered {keyStatus}: {key}");
            var merchant = GatewayCluster.Client(gateway.Silos[m % 2], key.Str("key"));
            merchants.Add(merchant);
            var (created, invoice) = await merchant.SendJsonAsync(HttpMethod.Post, "/v1/invoices", """{"amount":"1","currency":"LTC","network":"ltc"}""", Ct);
            Assert.True(created == 201, $"POST /v1/invoices answered {created}: {invoice}");
            payments[invoice.Method("ltc_ltc").Str("address")] = Deposit;
            invoices.Add((merchant, invoice.Str("id")));
        }

        await node.Wallet.SendManyAsync(payments, Ct);
        await node.Rpc.GenerateToAddressAsync(Confirmations, miner, Ct);
        foreach (var (merchant, id) in invoices)
        {
            await gateway.WaitForInvoiceAsync(merchant, id, i => i.Str("status") == "confirmed", "confirmed", WatchTimeout, Ct);
            await gateway.WaitForBalanceAsync(merchant, "LTC", (Units(GatewayCluster.NetOf(Deposit)), 0m), WatchTimeout, Ct);
        }

        return merchants;
    }

    private async Task<string> WithdrawAsync(HttpClient merchant, string address, long units, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/withdrawals")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { asset = "LTC", network = "ltc", amount = Units(units).ToString(CultureInfo.InvariantCulture), address }), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        using var response = await merchant.SendAsync(request, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True((int)response.StatusCode == 201, $"POST /v1/withdrawals answered {(int)response.StatusCode}: {body}");
        var withdrawal = JsonDocument.Parse(body).RootElement;
        Assert.Equal("queued", withdrawal.Str("status"));
        return withdrawal.Str("id");
    }

    private static decimal Units(BigInteger units) => (decimal)units / 100_000_000m;
}
