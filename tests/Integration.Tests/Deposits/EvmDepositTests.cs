using System.Numerics;
using System.Security.Cryptography;
using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Chains.Rpc;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Integration.Tests.Chains;
using CryptoPay.TestSupport.Evm;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Integration.Tests.Deposits;

/// <summary>
/// Deposits end to end on a real EVM dev node (ganache, a block per transaction): native ETH, an ERC-20 token of this
/// repository compiled by solc, a reorganisation by snapshot/revert, and TRON's TRC-20 path through the adapter.
/// </summary>
[Collection("evm-deposits")]
public sealed class EvmDepositTests(EvmDevNodeFixture evm, PostgresFixture postgres) : IAsyncLifetime
{
    private readonly EvmDevNode node = evm.Node;
    private readonly AddressDeriver ethDeriver = TestAccounts.Deriver(Network.Ethereum(NetworkChain.Regtest), ExtendedKeyVersion.Tpub);
    private readonly AddressDeriver tronDeriver = TestAccounts.Deriver(Network.TronNetwork(NetworkChain.Regtest), ExtendedKeyVersion.Tpub);
    private uint nextIndex = (uint)RandomNumberGenerator.GetInt32(1_000_000, 1_000_000_000);
    private DepositCluster deposits = null!;
    private string sender = "";
    private string usdt = "";
    private string usdc = "";

    private EvmRpcClient Rpc => node.Rpc;

    public async Task InitializeAsync()
    {
        sender = (await Rpc.GetAccountsAsync())[4];
        usdt = await node.DeployTestTokenAsync(sender, BigInteger.Pow(10, 24));
        usdc = await node.DeployTestTokenAsync(sender, BigInteger.Pow(10, 24));
        ChainWatch eth = new("eth", new ChainNetworkOptions { Chain = "regtest", ReorgDepth = 10, Tokens = { ["USDT"] = usdt, ["USDC"] = usdc } },
            new EvmChainReader(Rpc, "ETH", new Dictionary<string, string> { ["USDT"] = usdt, ["USDC"] = usdc }));
        ChainWatch tron = new("tron", new ChainNetworkOptions { Chain = "regtest", ReorgDepth = 10 },
            new TronChainReader(new TronRpcAdapter(Rpc), Rpc, new Dictionary<string, string> { ["USDT"] = TronAddress.FromEvmAddress(usdt) }));
        deposits = await DepositCluster.StartAsync(postgres, [eth, tron]);
        await deposits.PollAsync("eth");
        await deposits.PollAsync("tron");
    }

    public async Task DisposeAsync() => await deposits.DisposeAsync();

    [Fact]
    public async Task A_native_eth_payment_confirms_after_the_required_blocks_and_is_credited_in_wei()
    {
        var amount = BigInteger.Parse("1234567890123456789", System.Globalization.CultureInfo.InvariantCulture);
        var invoice = await deposits.CreateInvoiceAsync("eth", "ETH", ethDeriver.DeriveReceiveAddress(nextIndex++), amount, requiredConfirmations: 2);
        var hash = await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, invoice.PaymentMethods[0].Address!, amount));

        await deposits.PollAsync("eth");
        var seen = await deposits.InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirming, seen.Status);
        var payment = Assert.Single(seen.PaymentMethods[0].Payments);
        Assert.Equal((hash, 0, amount, 1), (payment.Txid, payment.OutputIndex, payment.AmountUnits, payment.Confirmations));
        Assert.Equal((BigInteger.Zero, amount), await deposits.BalanceAsync("ETH"));

        await Rpc.MineAsync();
        await deposits.PollAsync("eth");
        Assert.Equal(InvoiceStatus.Confirmed, (await deposits.InvoiceAsync(invoice.Id)).Status);
        Assert.Equal((DepositCluster.NetOf(amount), BigInteger.Zero), await deposits.BalanceAsync("ETH"));
    }

    [Fact]
    public async Task An_erc20_payment_is_found_by_its_transfer_log_and_credited_while_another_token_to_the_address_is_not()
    {
        var invoice = await deposits.CreateInvoiceAsync("eth", "USDT", ethDeriver.DeriveReceiveAddress(nextIndex++), 25_000_000, requiredConfirmations: 1);
        var address = invoice.PaymentMethods[0].Address!;
        var wrongToken = await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, usdc, BigInteger.Zero, Erc20.EncodeTransfer(address, 25_000_000)));
        var hash = await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, usdt, BigInteger.Zero, Erc20.EncodeTransfer(address, 25_000_000)));
        var receipt = (await Rpc.GetTransactionReceiptAsync(hash))!;

        await deposits.PollAsync("eth");

        var paid = await deposits.InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirmed, paid.Status);
        var payment = Assert.Single(paid.PaymentMethods[0].Payments);
        Assert.Equal(hash, payment.Txid);
        Assert.DoesNotContain(paid.PaymentMethods[0].Payments, p => p.Txid == wrongToken);
        Assert.Equal(checked((int)Assert.Single(receipt.Logs).LogIndex), payment.OutputIndex);
        Assert.Equal((DepositCluster.NetOf(25_000_000), BigInteger.Zero), await deposits.BalanceAsync("USDT-ETH"));
        Assert.Equal((BigInteger.Zero, BigInteger.Zero), await deposits.BalanceAsync("USDC-ETH"));
        Assert.Equal(1, deposits.Runner.Metrics.WrongAssetOutputs);
    }

    [Fact]
    public async Task Reverting_to_a_snapshot_removes_a_confirmed_payment_and_reverses_its_credit()
    {
        var amount = new BigInteger(5_000_000_000_000_000);
        var invoice = await deposits.CreateInvoiceAsync("eth", "ETH", ethDeriver.DeriveReceiveAddress(nextIndex++), amount, requiredConfirmations: 1);
        var snapshot = await Rpc.SnapshotAsync();
        var hash = await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, invoice.PaymentMethods[0].Address!, amount));
        await deposits.PollAsync("eth");
        Assert.Equal(InvoiceStatus.Confirmed, (await deposits.InvoiceAsync(invoice.Id)).Status);
        Assert.Equal(DepositCluster.NetOf(amount), (await deposits.BalanceAsync("ETH")).Available);

        Assert.True(await Rpc.RevertAsync(snapshot));
        for (var i = 0; i < 3; i++)
        {
            await Rpc.MineAsync(); // a longer chain without the payment
        }

        await deposits.PollAsync("eth");

        var reorged = await deposits.InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Pending, reorged.Status);
        Assert.Equal(InvoiceException.Reorged, reorged.Exception);
        Assert.Empty(reorged.PaymentMethods[0].Payments);
        Assert.Equal((BigInteger.Zero, BigInteger.Zero), await deposits.BalanceAsync("ETH"));
        var output = await deposits.OutputAsync("eth", hash, 0);
        Assert.False(output.Credited);
        Assert.Equal([LedgerMovementKind.DepositCredit, LedgerMovementKind.DepositReversal], output.Movements.Select(m => m.Kind));
        Assert.Equal(1, (await deposits.Grains.GetGrain<IChainWatcherGrain>("eth").Get()).PaymentsReorged);
    }

    [Fact]
    public async Task A_trc20_payment_through_the_tron_adapter_is_matched_in_tron_format_and_credited()
    {
        var address = tronDeriver.DeriveReceiveAddress(nextIndex++);
        Assert.StartsWith("T", address, StringComparison.Ordinal);
        var invoice = await deposits.CreateInvoiceAsync("tron", "USDT", address, 12_000_000, requiredConfirmations: 1);
        var hash = await Rpc.SendTransactionAsync(new EvmTransactionRequest(sender, usdt, BigInteger.Zero, Erc20.EncodeTransfer(TronRpcAdapter.ToEvm(address), 12_000_000)));

        await deposits.PollAsync("tron");

        var paid = await deposits.InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirmed, paid.Status);
        Assert.Equal(address, paid.PaymentMethods[0].Address);
        Assert.Equal(hash, Assert.Single(paid.PaymentMethods[0].Payments).Txid);
        Assert.Equal((DepositCluster.NetOf(12_000_000), BigInteger.Zero), await deposits.BalanceAsync("USDT-TRON"));
    }
}
