using System.Text.RegularExpressions;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.ProcessSupport;
using CryptoPay.TestSupport.Litecoin;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Integration.Tests.LiveGateway;

/// <summary>
/// The live payment path as operators run it: two CryptoPay.Silo processes on one PostgreSQL database, configured by
/// environment variables for a real litecoind -regtest, whose own chain watchers (1 s polls, 2 confirmations) follow a
/// payment the test makes with the node's wallet, from invoice creation over HTTP to the merchant's balance and webhooks.
/// </summary>
[Collection("live-gateway")]
public sealed class LitecoinLiveGatewayTests(LitecoinFixture litecoin, PostgresFixture postgres) : IAsyncLifetime
{
    private const int Confirmations = 2;
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan WatchTimeout = TimeSpan.FromSeconds(30);

    private readonly LitecoinRegtestNode node = litecoin.Node;
    private readonly OperatorAccount account = OperatorAccount.Fresh(Network.Litecoin(NetworkChain.Regtest), ExtendedKeyVersion.Vpub);
    private readonly CancellationTokenSource timeout = new(TestTimeout);
    private string miner = "";

    private CancellationToken Ct => timeout.Token;

    public async Task InitializeAsync()
    {
        miner = await node.Wallet.GetNewAddressAsync("bech32");
        if (await node.Rpc.GetBlockCountAsync() < 101)
        {
            await node.Rpc.GenerateToAddressAsync(101, miner); // coinbase outputs mature after 100 blocks
        }

        await node.Rpc.GenerateToAddressAsync(1, miner); // nothing of an earlier test left in the mempool
    }

    public Task DisposeAsync()
    {
        timeout.Dispose();
        return Task.CompletedTask;
    }

    private async Task<GatewayCluster> StartGatewayAsync() =>
        await GatewayCluster.StartAsync(postgres, await GatewayCluster.LitecoinChainsAsync(node, account.AccountKey, Confirmations, Ct), count: 2, Ct);

    private static bool Is(JsonElement invoice, string status) => invoice.Str("status") == status;

    [Fact]
    public async Task A_live_ltc_invoice_paid_with_the_node_wallet_is_confirmed_credited_less_the_fee_and_notified_by_signed_webhooks()
    {
        await using var gateway = await StartGatewayAsync();
        await using var receiver = await WebhookReceiver.StartAsync(Ct);
        var (_, liveKey) = await gateway.CreateMerchantAsync(Ct);
        using var merchant = GatewayCluster.Client(gateway.Silos[0], liveKey);
        using var viaOtherSilo = GatewayCluster.Client(gateway.Silos[1], liveKey);
        using var customer = GatewayCluster.Client(gateway.Silos[1]);

        string[] events = ["invoice.payment_detected", "invoice.confirming", "invoice.confirmed"];
        var (endpointStatus, endpoint) = await merchant.SendJsonAsync(
            HttpMethod.Post, "/v1/webhook-endpoints", JsonSerializer.Serialize(new { url = receiver.Url, events }), Ct);
        Assert.True(endpointStatus == 201, $"POST /v1/webhook-endpoints answered {endpointStatus}: {endpoint}");
        var secret = endpoint.Str("secret");

        var (createdStatus, created) = await merchant.SendJsonAsync(HttpMethod.Post, "/v1/invoices", """{"amount":"0.5","currency":"LTC","network":"ltc"}""", Ct);
        Assert.True(createdStatus == 201, $"POST /v1/invoices answered {createdStatus}: {created}");
        var id = created.Str("id");
        var method = created.Method("ltc_ltc");
        var address = method.Str("address");
        Assert.Equal(account.Deriver.DeriveReceiveAddress(0), address);
        Assert.StartsWith("rltc1", address, StringComparison.Ordinal);
        Assert.Equal($"litecoin:{address}?amount=0.5", method.Str("payment_uri"));
        Assert.Equal(("pending", Confirmations), (created.Str("status"), method.GetProperty("confirmations").GetProperty("required").GetInt32()));

        const long amount = 50_000_000;
        var txid = await node.Wallet.SendToAddressAsync(address, amount, Ct);

        // 0-conf: the watchers read the payment from the mempool.
        var confirming = await gateway.WaitForInvoiceAsync(viaOtherSilo, id, i => Is(i, "confirming"), "confirming from the mempool", WatchTimeout, Ct);
        var seen = Assert.Single(confirming.Method("ltc_ltc").GetProperty("payments").EnumerateArray());
        Assert.Equal((txid, "50000000", 0), (seen.Str("txid"), seen.Str("amount_units"), seen.GetProperty("confirmations").GetInt32()));
        await gateway.WaitForBalanceAsync(merchant, "LTC", (0m, 0.5m), WatchTimeout, Ct);

        await node.Rpc.GenerateToAddressAsync(Confirmations, miner, Ct);

        var confirmed = await gateway.WaitForInvoiceAsync(merchant, id, i => Is(i, "confirmed"), "confirmed after 2 blocks", WatchTimeout, Ct);
        var paid = confirmed.Method("ltc_ltc");
        var payment = Assert.Single(paid.GetProperty("payments").EnumerateArray());
        Assert.Equal((txid, 0.5m, Confirmations), (payment.Str("txid"), decimal.Parse(payment.Str("amount"), CultureInfo.InvariantCulture), payment.GetProperty("confirmations").GetInt32()));
        Assert.Equal((0.5m, Confirmations), (decimal.Parse(paid.Str("paid_amount"), CultureInfo.InvariantCulture), paid.GetProperty("confirmations").GetProperty("received").GetInt32()));
        Assert.Equal(JsonValueKind.Null, confirmed.GetProperty("exception").ValueKind);
        await gateway.WaitForBalanceAsync(merchant, "LTC", (Units(GatewayCluster.NetOf(amount)), 0m), WatchTimeout, Ct);

        // What the customer sees: the public status and the checkout page.
        var (publicStatus, status) = await customer.SendJsonAsync(HttpMethod.Get, $"/v1/invoices/{id}/status", null, Ct);
        Assert.Equal((200, id, "confirmed"), (publicStatus, status.Str("id"), status.Str("status")));
        var page = await customer.GetStringAsync($"/pay/{id}", Ct);
        Assert.Contains("data-status=\"confirmed\"", page, StringComparison.Ordinal);
        Assert.Contains("Paid. Thank you!", page, StringComparison.Ordinal);

        // What the merchant's server received: each event once per id, signed with the endpoint's secret.
        var hooks = await receiver.WaitForAsync(id, events, WatchTimeout, () => gateway.Output, Ct);
        Assert.All(hooks, h => Assert.True(h.IsSignedWith(secret), $"bad signature on {h.Id}: {h.Signature}"));
        Assert.All(hooks, h => Assert.Equal(h.Id, h.Json.Str("id")));
        Assert.All(hooks, h => Assert.Equal("live", h.Json.Str("mode")));
        Assert.Equal("confirmed", hooks.Last(h => h.Type == "invoice.confirmed").Json.GetProperty("data").GetProperty("object").Str("status"));
        Assert.Equal(hooks.Count, hooks.Select(h => h.Id).Distinct().Count());

        // What the operator sees: a silo that polled the node reports its watcher caught up with the tip.
        var scrapes = new List<string>();
        foreach (var silo in gateway.Silos)
        {
            using var admin = GatewayCluster.Client(silo, GatewayCluster.AdminKey);
            scrapes.Add(await admin.GetStringAsync("/metrics", Ct));
        }

        Assert.Contains(scrapes, text => Regex.IsMatch(text, @"(?m)^cryptopay_chain_blocks_behind\{[^}]*network=""ltc""[^}]*\} 0(\s|$)"));
    }

    [Fact]
    public async Task The_silo_killed_in_the_middle_of_a_poll_leaves_the_other_to_confirm_the_payment_within_seconds_and_credit_it_once()
    {
        await using var gateway = await StartGatewayAsync();
        var (_, liveKey) = await gateway.CreateMerchantAsync(Ct);
        var (created, txid) = await PayNewInvoiceAsync(gateway, liveKey, "0.25", 25_000_000);
        var id = created.Str("id");

        // With litecoind suspended, the silo whose reminder tick claimed the next poll hangs in its RPC call: that is the
        // silo watching ltc, and it dies holding the claim.
        SiloProcess victim;
        using (PendingRequests.Suspend(node.ProcessId))
        {
            victim = await WaitForPollingSiloAsync(gateway);
            victim.Kill();
            Assert.NotEqual(0, await victim.WaitForExitAsync(TimeSpan.FromSeconds(10), Ct));
        }

        var killed = Stopwatch.StartNew();
        var survivor = gateway.Silos.Single(s => s != victim);
        await MineAndExpectOneCreditThroughAsync(gateway, survivor, liveKey, id, txid);
        Assert.True(killed.Elapsed < WatchTimeout, $"took {killed.Elapsed}");
    }

    [Fact]
    public async Task A_silo_killed_while_the_payment_waits_for_blocks_leaves_the_other_to_confirm_it_and_credit_it_once()
    {
        await using var gateway = await StartGatewayAsync();
        var (_, liveKey) = await gateway.CreateMerchantAsync(Ct);
        var (created, txid) = await PayNewInvoiceAsync(gateway, liveKey, "0.25", 25_000_000);
        var id = created.Str("id");

        var (victim, survivor) = (gateway.Silos[0], gateway.Silos[1]);
        victim.Kill();
        Assert.NotEqual(0, await victim.WaitForExitAsync(TimeSpan.FromSeconds(10), Ct));
        await MineAndExpectOneCreditThroughAsync(gateway, survivor, liveKey, id, txid);
    }

    /// <summary>Mines the confirmations; the surviving silo confirms the 0.25 LTC invoice and credits its payment exactly once.</summary>
    private async Task MineAndExpectOneCreditThroughAsync(GatewayCluster gateway, SiloProcess survivor, string liveKey, string id, string txid)
    {
        using var merchant = GatewayCluster.Client(survivor, liveKey);
        await node.Rpc.GenerateToAddressAsync(Confirmations, miner, Ct);

        var confirmed = await gateway.WaitForInvoiceAsync(merchant, id, i => Is(i, "confirmed"), "confirmed by the surviving silo", WatchTimeout, Ct);
        Assert.Equal(txid, Assert.Single(confirmed.Method("ltc_ltc").GetProperty("payments").EnumerateArray()).Str("txid"));
        await gateway.WaitForBalanceAsync(merchant, "LTC", (Units(GatewayCluster.NetOf(25_000_000)), 0m), WatchTimeout, Ct);
        var ledger = await gateway.LedgerAsync(Ct);
        var output = Assert.Single(ledger.Outputs);
        Assert.Equal((txid, true, 1), (output.Txid, output.Credited, output.Movements.Count));
    }

    /// <summary>Creates a one-method LTC invoice through the second silo, pays it with the node wallet and waits until it is confirming (0-conf).</summary>
    private async Task<(JsonElement Invoice, string Txid)> PayNewInvoiceAsync(GatewayCluster gateway, string liveKey, string amount, long units)
    {
        using var merchant = GatewayCluster.Client(gateway.Silos[1], liveKey);
        var (createdStatus, created) = await merchant.SendJsonAsync(
            HttpMethod.Post, "/v1/invoices", JsonSerializer.Serialize(new { amount, currency = "LTC", network = "ltc" }), Ct);
        Assert.True(createdStatus == 201, $"POST /v1/invoices answered {createdStatus}: {created}");
        var txid = await node.Wallet.SendToAddressAsync(created.Method("ltc_ltc").Str("address"), units, Ct);
        await gateway.WaitForInvoiceAsync(merchant, created.Str("id"), i => Is(i, "confirming"), "confirming from the mempool", WatchTimeout, Ct);
        return (created, txid);
    }

    /// <summary>With litecoind suspended, the silo that has a poll request queued at its RPC port (ticks come every second).</summary>
    private async Task<SiloProcess> WaitForPollingSiloAsync(GatewayCluster gateway)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var pid = PendingRequests.WaitingAt(node.RpcPort, gateway.Silos.Select(s => s.ProcessId));
            if (pid is not null)
            {
                return gateway.Silos.Single(s => s.ProcessId == pid);
            }

            if (waited.Elapsed > TimeSpan.FromSeconds(10))
            {
                Assert.Fail($"No silo sent litecoind a request within 10 s of suspending it.\n{PendingRequests.Describe(node.RpcPort, gateway.Silos.Select(s => s.ProcessId))}\n{gateway.Output}");
            }

            await Task.Delay(100, Ct);
        }
    }

    private static decimal Units(BigInteger units) => (decimal)units / 100_000_000m;
}
