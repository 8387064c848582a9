using System.Globalization;
using System.Numerics;
using System.Text.Json;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Chains.Rpc;
using CryptoPay.TestSupport.Evm;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Integration.Tests.LiveGateway;

/// <summary>
/// The live payment path on an EVM chain: two CryptoPay.Silo processes configured for a real ganache node with native ETH
/// and an ERC-20 "USDT" the test deploys (compiled by solc); a USD invoice offering both, the customer's choice allocating
/// the address, a token transfer found by its Transfer log, confirmed after the required blocks and credited in USDT-ETH.
/// </summary>
[Collection("live-gateway")]
public sealed class EvmLiveGatewayTests(EvmDevNodeFixture evm, PostgresFixture postgres) : IAsyncLifetime
{
    private const int Confirmations = 2;
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan WatchTimeout = TimeSpan.FromSeconds(30);

    private readonly EvmDevNode node = evm.Node;
    private readonly OperatorAccount account = OperatorAccount.Fresh(Network.Ethereum(NetworkChain.Mainnet), ExtendedKeyVersion.Xpub);
    private readonly CancellationTokenSource timeout = new(TestTimeout);
    private string sender = "";
    private string usdt = "";

    private CancellationToken Ct => timeout.Token;

    private EvmRpcClient Rpc => node.Rpc;

    public async Task InitializeAsync()
    {
        sender = (await Rpc.GetAccountsAsync(Ct))[5];
        usdt = await node.DeployTestTokenAsync(sender, BigInteger.Pow(10, 24), Ct);
    }

    public Task DisposeAsync()
    {
        timeout.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_usd_invoice_paid_in_usdt_on_eth_after_choosing_the_method_is_confirmed_and_credited_in_usdt_eth()
    {
        var chains = await GatewayCluster.EthereumChainsAsync(Rpc, account.AccountKey, usdt, Confirmations, Ct);
        await using var gateway = await GatewayCluster.StartAsync(postgres, chains, count: 2, Ct);
        var (_, liveKey) = await gateway.CreateMerchantAsync(Ct);
        using var merchant = GatewayCluster.Client(gateway.Silos[0], liveKey);
        using var customer = GatewayCluster.Client(gateway.Silos[1]);

        var (createdStatus, created) = await merchant.SendJsonAsync(
            HttpMethod.Post, "/v1/invoices", """{"amount":"25.00","currency":"USD","payment_methods":["eth_eth","usdt_eth"]}""", Ct);
        Assert.True(createdStatus == 201, $"POST /v1/invoices answered {createdStatus}: {created}");
        var id = created.Str("id");
        Assert.Equal(["eth_eth", "usdt_eth"], created.GetProperty("payment_methods").EnumerateArray().Select(m => m.Str("method")));
        Assert.All(created.GetProperty("payment_methods").EnumerateArray(), m => Assert.Equal(JsonValueKind.Null, m.GetProperty("address").ValueKind));

        // The customer chooses USDT on the checkout endpoint (public): the address is allocated then.
        var (chosenStatus, chosen) = await customer.SendJsonAsync(HttpMethod.Post, $"/v1/invoices/{id}/payment-method", """{"method":"usdt_eth"}""", Ct);
        Assert.True(chosenStatus == 200, $"POST payment-method answered {chosenStatus}: {chosen}");
        var (_, invoice) = await merchant.SendJsonAsync(HttpMethod.Get, $"/v1/invoices/{id}", null, Ct);
        var method = invoice.Method("usdt_eth");
        var address = method.Str("address");
        Assert.Equal(account.Deriver.DeriveReceiveAddress(0), address);
        Assert.Equal(JsonValueKind.Null, invoice.Method("eth_eth").GetProperty("address").ValueKind);
        var units = BigInteger.Parse(method.Str("amount_units"), CultureInfo.InvariantCulture);
        Assert.Equal(new BigInteger(25_000_000), units); // 25 USD at the static rate of 1, in USDT's 6 decimals
        Assert.Equal($"ethereum:{usdt}@{EvmDevNodeFixture.ChainId}/transfer?address={address}&uint256={units}", method.Str("payment_uri"), ignoreCase: true);

        var hash = await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, usdt, BigInteger.Zero, Erc20.EncodeTransfer(address, units)), Ct);

        // The transfer's block is its first confirmation; one more block makes the two required.
        var confirming = await gateway.WaitForInvoiceAsync(merchant, id, i => i.Str("status") == "confirming", "confirming with 1 of 2 confirmations", WatchTimeout, Ct);
        Assert.Equal(hash, Assert.Single(confirming.Method("usdt_eth").GetProperty("payments").EnumerateArray()).Str("txid"));
        await Rpc.MineAsync(Ct);

        var confirmed = await gateway.WaitForInvoiceAsync(merchant, id, i => i.Str("status") == "confirmed", "confirmed after 2 blocks", WatchTimeout, Ct);
        var payment = Assert.Single(confirmed.Method("usdt_eth").GetProperty("payments").EnumerateArray());
        Assert.Equal((hash, units.ToString(CultureInfo.InvariantCulture)), (payment.Str("txid"), payment.Str("amount_units")));
        Assert.Empty(confirmed.Method("eth_eth").GetProperty("payments").EnumerateArray());
        var net = (decimal)GatewayCluster.NetOf(units) / 1_000_000m;
        await gateway.WaitForBalanceAsync(merchant, "USDT-ETH", (net, 0m), WatchTimeout, Ct);
        Assert.Equal((0m, 0m), await GatewayCluster.BalanceAsync(merchant, "ETH", Ct));
        var (publicStatus, status) = await customer.SendJsonAsync(HttpMethod.Get, $"/v1/invoices/{id}/status", null, Ct);
        Assert.Equal((200, "confirmed"), (publicStatus, status.Str("status")));
    }
}
