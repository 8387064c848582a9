using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Chains.Payouts;
using CryptoPay.Chains.Rpc;
using CryptoPay.TestSupport.Evm;
using CryptoPay.TestSupport.Postgres;
using Nethereum.Signer;

namespace CryptoPay.Integration.Tests.LiveGateway;

/// <summary>
/// Money out on a real ganache node through two CryptoPay.Silo processes over PostgreSQL: a merchant credited in ETH and
/// in an ERC-20 "USDT" by paid invoices withdraws both; the batch is paid from the operator's hot key as a commitment
/// transaction carrying the Merkle root, then one transfer per withdrawal, with consecutive nonces.
/// </summary>
[Collection("live-gateway")]
public sealed class EvmSettlementTests(EvmDevNodeFixture evm, PostgresFixture postgres) : IAsyncLifetime
{
    private const int Confirmations = 2;
    private static readonly BigInteger Ether = BigInteger.Pow(10, 18);
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan WatchTimeout = TimeSpan.FromSeconds(60);

    private readonly EvmDevNode node = evm.Node;
    private readonly OperatorAccount account = OperatorAccount.Fresh(Network.Ethereum(NetworkChain.Mainnet), ExtendedKeyVersion.Xpub);
    private readonly byte[] hotKey = RandomNumberGenerator.GetBytes(32);
    private readonly CancellationTokenSource timeout = new(TestTimeout);
    private string funder = "";
    private string usdt = "";
    private string hot = "";

    private CancellationToken Ct => timeout.Token;

    private EvmRpcClient Rpc => node.Rpc;

    public async Task InitializeAsync()
    {
        funder = (await Rpc.GetAccountsAsync(Ct))[6];
        usdt = await node.DeployTestTokenAsync(funder, BigInteger.Pow(10, 24), Ct);
        hot = EvmAddress.ToChecksumAddress(new EthECKey(hotKey, true).GetPublicAddress());
        await RequireSuccessAsync(await Rpc.SendTransactionAsync(new EvmTransactionRequest(funder, hot, 10 * Ether), Ct));
        await RequireSuccessAsync(await Rpc.SendTransactionAsync(new EvmTransactionRequest(funder, usdt, BigInteger.Zero, Erc20.EncodeTransfer(hot, 1_000_000_000)), Ct));
        // ganache 7.9.2 reads a raw transaction's nonce 0 as "none" (EvmPayoutWalletTests): the hot wallet's nonce 0 is used first.
        var terms = await Rpc.GetTransferTermsAsync(hot, 21_000, Ct);
        await RequireSuccessAsync(await Rpc.SendRawTransactionAsync(EvmTransferSigner.SignNative(hotKey, hot, BigInteger.Zero, terms), Ct));
    }

    public Task DisposeAsync()
    {
        timeout.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Native_and_token_withdrawals_are_paid_in_one_batch_after_a_commitment_transaction_with_consecutive_nonces()
    {
        var chains = await GatewayCluster.EthereumChainsAsync(Rpc, account.AccountKey, usdt, Confirmations, Ct);
        chains["Chains__Networks__eth__PayoutKey"] = Convert.ToHexStringLower(hotKey);
        await using var gateway = await GatewayCluster.StartAsync(postgres, chains, count: 2, Ct);
        using var admin = GatewayCluster.Client(gateway.Silos[0], GatewayCluster.AdminKey);
        var (merchantId, _) = await gateway.CreateMerchantAsync(Ct);
        var (keyStatus, key) = await admin.SendJsonAsync(HttpMethod.Post, $"/v1/merchants/{merchantId}/api-keys",
            """{"mode":"live","scopes":["withdrawals:write","balances:read","invoices:write","invoices:read"]}""", Ct);
        Assert.True(keyStatus == 201, $"POST api-keys answered {keyStatus}: {key}");
        using var merchant = GatewayCluster.Client(gateway.Silos[1], key.Str("key"));

        // The merchant's balances: 1 ETH and 100 USDT paid to its invoices, less the 2.5 % deposit fee.
        await PayInvoiceAsync(gateway, merchant, """{"amount":"1","currency":"ETH","network":"eth"}""", "eth_eth", units => new EvmTransactionRequest(funder, null, units));
        await PayInvoiceAsync(gateway, merchant, """{"amount":"100","currency":"USDT","network":"eth"}""", "usdt_eth", units => new EvmTransactionRequest(funder, usdt, BigInteger.Zero));
        await gateway.WaitForBalanceAsync(merchant, "ETH", (0.975m, 0m), WatchTimeout, Ct);
        await gateway.WaitForBalanceAsync(merchant, "USDT-ETH", (97.5m, 0m), WatchTimeout, Ct);

        // 0.2 ETH is worth 600 USD at the static rate: it waits for review, and is paid once the operator approves it.
        var orders = new (string Asset, string Amount, BigInteger Units)[] { ("ETH", "0.01", Ether / 100), ("ETH", "0.2", Ether / 5), ("USDT", "20", 20_000_000), ("USDT", "25.5", 25_500_000) };
        var withdrawals = new List<(string Id, string Asset, string Address, BigInteger Units)>();
        foreach (var (asset, amount, units) in orders)
        {
            var address = EvmAddress.ToChecksumAddress(new EthECKey(RandomNumberGenerator.GetBytes(32), true).GetPublicAddress());
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/withdrawals")
            {
                Content = new StringContent(JsonSerializer.Serialize(new { asset, network = "eth", amount, address }), Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("Idempotency-Key", $"evm-{asset}-{amount}");
            using var response = await merchant.SendAsync(request, Ct);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
            var expected = amount == "0.2" ? "review" : "queued";
            Assert.True((int)response.StatusCode == 201 && body.Str("status") == expected, $"POST /v1/withdrawals answered {(int)response.StatusCode}: {body}");
            withdrawals.Add((body.Str("id"), asset, address, units));
        }

        // It waits in review; approved, it is queued like the others and paid in the same batch.
        var reviewed = withdrawals[1].Id;
        var (approveStatus, approved) = await admin.SendJsonAsync(HttpMethod.Post, $"/v1/admin/withdrawals/{reviewed}/approve", "{}", Ct);
        Assert.True(approveStatus == 200 && approved.Str("status") == "queued", $"approve answered {approveStatus}: {approved}");

        var nonceBefore = await Rpc.GetTransactionCountAsync(hot, includePending: true, Ct);
        var (runStatus, batch) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/admin/settlements/run?network=eth", null, Ct);
        Assert.True(runStatus == 201, $"POST /v1/admin/settlements/run answered {runStatus}: {batch}\n{gateway.Output}");
        var id = batch.Str("id");

        // Five transactions from the hot wallet: the commitment, then a transfer per withdrawal; the nonce moved by exactly five.
        var transactions = batch.GetProperty("transactions").EnumerateArray().ToList();
        Assert.Equal(5, transactions.Count);
        Assert.Equal(JsonValueKind.Null, transactions[0].GetProperty("withdrawal_id").ValueKind);
        Assert.Equal(nonceBefore + 5, await Rpc.GetTransactionCountAsync(hot, includePending: true, Ct));
        var commitment = await Rpc.GetTransactionByHashAsync(transactions[0].Str("txid"), Ct);
        Assert.Equal((hot, hot), (EvmAddress.ToChecksumAddress(commitment!.From), EvmAddress.ToChecksumAddress(commitment.To!)));
        Assert.Equal("0x" + Convert.ToHexStringLower(Encoding.ASCII.GetBytes("CPAY")) + "01" + batch.Str("proof_hash"), commitment.Input, ignoreCase: true);

        // ganache mines each at once: one more block makes the two confirmations.
        await Rpc.MineAsync(Ct);
        var final = await gateway.WaitForSettlementAsync(admin, id, "finalized", WatchTimeout, Ct);
        Assert.True(decimal.Parse(final.Str("fee"), CultureInfo.InvariantCulture) > 0m, final.ToString());
        foreach (var w in withdrawals)
        {
            var received = w.Asset == "ETH" ? await Rpc.GetBalanceAsync(w.Address, Ct) : await Rpc.GetErc20BalanceAsync(usdt, w.Address, Ct);
            Assert.Equal(w.Units, received);
            var (status, withdrawal) = await merchant.SendJsonAsync(HttpMethod.Get, $"/v1/withdrawals/{w.Id}", null, Ct);
            Assert.True(status == 200 && withdrawal.Str("status") == "completed", $"{status}: {withdrawal}");
            var (proofStatus, proof) = await merchant.SendJsonAsync(HttpMethod.Get, $"/v1/proofs/{w.Id}", null, Ct);
            Assert.True(proofStatus == 200, $"GET /v1/proofs/{w.Id} answered {proofStatus}: {proof}");
            Assert.Equal((withdrawal.Str("txid"), transactions[0].Str("txid"), JsonValueKind.Null), (proof.Str("txid"), proof.Str("commitment_txid"), proof.GetProperty("txout_proof").ValueKind));
            var leaf = PayoutMerkleTree.Leaf(new PayoutEntry(Guid.Parse(w.Id), "eth", w.Asset == "ETH" ? "ETH" : "USDT-ETH", w.Address, w.Units, []));
            var branch = proof.GetProperty("branch").EnumerateArray().Select(s => new MerkleStep(s.Str("side") == "left" ? MerkleSide.Left : MerkleSide.Right, Convert.FromHexString(s.Str("hash")))).ToList();
            Assert.True(PayoutMerkleTree.Verify(leaf, branch, Convert.FromHexString(batch.Str("proof_hash"))), proof.ToString());
        }

        // Balances: each withdrawal's amount and fee (ETH 0.001, USDT-ETH 5) left; the network fee in ETH is the operator's.
        await gateway.WaitForBalanceAsync(merchant, "ETH", (0.975m - 0.21m - 0.002m, 0m), WatchTimeout, Ct);
        await gateway.WaitForBalanceAsync(merchant, "USDT-ETH", (97.5m - 45.5m - 10m, 0m), WatchTimeout, Ct);
        var ledger = await gateway.LedgerAsync(Ct);
        var movement = Assert.Single(Assert.Single(ledger.Settlements!).Movements);
        Assert.Equal(("ETH", true), (movement.Entries[0].Asset, movement.AmountOn("network-fees:eth") > 0));
    }

    private async Task PayInvoiceAsync(GatewayCluster gateway, HttpClient merchant, string body, string method, Func<BigInteger, EvmTransactionRequest> payment)
    {
        var (created, invoice) = await merchant.SendJsonAsync(HttpMethod.Post, "/v1/invoices", body, Ct);
        Assert.True(created == 201, $"POST /v1/invoices answered {created}: {invoice}");
        var chosen = invoice.Method(method);
        var units = BigInteger.Parse(chosen.Str("amount_units"), CultureInfo.InvariantCulture);
        var request = payment(units);
        var address = chosen.Str("address");
        request = request.To is null ? request with { To = address } : request with { Data = Erc20.EncodeTransfer(address, units) };
        await RequireSuccessAsync(await Rpc.SendTransactionAsync(request, Ct));
        await Rpc.MineAsync(Ct);
        await gateway.WaitForInvoiceAsync(merchant, invoice.Str("id"), i => i.Str("status") == "confirmed", "confirmed", WatchTimeout, Ct);
    }

    private async Task RequireSuccessAsync(string hash)
    {
        var receipt = await Rpc.GetTransactionReceiptAsync(hash, Ct);
        Assert.True(receipt is { Succeeded: true }, $"transaction {hash} failed: {node.Log}");
    }
}
