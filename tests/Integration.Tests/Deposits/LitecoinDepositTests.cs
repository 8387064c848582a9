using System.Numerics;
using System.Security.Cryptography;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Integration.Tests.Chains;
using CryptoPay.TestSupport.Litecoin;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Integration.Tests.Deposits;

/// <summary>
/// Deposits end to end on a real litecoind -regtest: the chain watcher reads the node, invoices follow payments and
/// confirmations, the merchant's balance is credited exactly once (less the fee), and reorganisations are undone.
/// </summary>
[Collection("litecoin-deposits")]
public sealed class LitecoinDepositTests(LitecoinFixture litecoin, PostgresFixture postgres) : IAsyncLifetime
{
    private const string Ltc = "ltc";
    private static readonly Network Regtest = Network.Litecoin(NetworkChain.Regtest);
    private readonly LitecoinRegtestNode node = litecoin.Node;
    private readonly AddressDeriver deriver = TestAccounts.Deriver(Regtest, ExtendedKeyVersion.Vpub);
    // Each test pays fresh addresses, so no payment of an earlier test on this node can match.
    private uint nextIndex = (uint)RandomNumberGenerator.GetInt32(1_000_000, 1_000_000_000);
    private DepositCluster deposits = null!;
    private string miner = "";

    public async Task InitializeAsync()
    {
        miner = await node.Wallet.GetNewAddressAsync("bech32");
        if (await node.Rpc.GetBlockCountAsync() < 101)
        {
            await node.Rpc.GenerateToAddressAsync(101, miner); // coinbase outputs mature after 100 blocks
        }

        await MineAsync(1); // nothing of an earlier test left in the mempool
        deposits = await DepositCluster.StartAsync(postgres, [Watch()]);
        await deposits.PollAsync(Ltc); // the watcher starts at the tip
    }

    public async Task DisposeAsync() => await deposits.DisposeAsync();

    /// <summary>Polls only when a test says so: the watcher's own timer and reminder run on real time, the tests on the fake clock.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMinutes(10);

    private ChainWatch Watch() =>
        new(Ltc, new ChainNetworkOptions { Chain = "regtest", ReorgDepth = 10, PollInterval = PollInterval }, new UtxoChainReader(node.Rpc, "LTC"));

    private string NewAddress() => deriver.DeriveReceiveAddress(nextIndex++);

    private Task MineAsync(int blocks) => node.Rpc.GenerateToAddressAsync(blocks, miner);

    private async Task<InvoiceState> InvoiceAsync(Guid id) => await deposits.InvoiceAsync(id);

    [Fact]
    public async Task An_exact_payment_is_confirming_from_the_mempool_and_confirmed_and_credited_after_the_required_blocks()
    {
        const long amount = 12_345_678;
        var invoice = await deposits.CreateInvoiceAsync(Ltc, "LTC", NewAddress(), amount, requiredConfirmations: 3);
        var txid = await node.Wallet.SendToAddressAsync(invoice.PaymentMethods[0].Address!, amount);

        await deposits.PollAsync(Ltc);
        var seen = await InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirming, seen.Status);
        var payment = Assert.Single(seen.PaymentMethods[0].Payments);
        Assert.Equal((txid, 0, new BigInteger(amount)), (payment.Txid, payment.Confirmations, payment.AmountUnits));
        Assert.Equal((BigInteger.Zero, new BigInteger(amount)), await deposits.BalanceAsync("LTC"));

        await MineAsync(2);
        await deposits.PollAsync(Ltc);
        seen = await InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirming, seen.Status);
        Assert.Equal(2, seen.PaymentMethods[0].Payments[0].Confirmations);
        Assert.Equal(BigInteger.Zero, (await deposits.BalanceAsync("LTC")).Available);

        await MineAsync(1);
        await deposits.PollAsync(Ltc);
        seen = await InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirmed, seen.Status);
        Assert.Null(seen.Exception);
        Assert.Equal(3, seen.PaymentMethods[0].Payments[0].Confirmations);
        Assert.Equal((DepositCluster.NetOf(amount), BigInteger.Zero), await deposits.BalanceAsync("LTC"));

        // More blocks (and polls) change nothing: the output stays credited once.
        await MineAsync(2);
        await deposits.PollAsync(Ltc);
        await deposits.PollAsync(Ltc);
        Assert.Equal((DepositCluster.NetOf(amount), BigInteger.Zero), await deposits.BalanceAsync("LTC"));
        var output = await deposits.OutputAsync(Ltc, txid, payment.OutputIndex);
        Assert.Single(output.Movements);
    }

    [Fact]
    public async Task Two_partial_payments_add_up_and_both_outputs_are_credited()
    {
        const long amount = 50_000_000;
        var invoice = await deposits.CreateInvoiceAsync(Ltc, "LTC", NewAddress(), amount, requiredConfirmations: 1);
        var address = invoice.PaymentMethods[0].Address!;

        var first = await node.Wallet.SendToAddressAsync(address, 20_000_000);
        await MineAsync(1);
        await deposits.PollAsync(Ltc);
        var partial = await InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Pending, partial.Status);
        Assert.Equal(new BigInteger(20_000_000), partial.PaymentMethods[0].PaidUnits);
        Assert.Equal((BigInteger.Zero, new BigInteger(20_000_000)), await deposits.BalanceAsync("LTC"));

        var second = await node.Wallet.SendToAddressAsync(address, 30_000_000);
        await MineAsync(1);
        await deposits.PollAsync(Ltc);
        var paid = await InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirmed, paid.Status);
        Assert.Null(paid.Exception);
        Assert.Equal([first, second], paid.PaymentMethods[0].Payments.Select(p => p.Txid));
        Assert.Equal((DepositCluster.NetOf(20_000_000) + DepositCluster.NetOf(30_000_000), BigInteger.Zero), await deposits.BalanceAsync("LTC"));
    }

    [Fact]
    public async Task An_underpayment_within_the_allowed_error_confirms_as_underpaid_and_credits_what_was_paid()
    {
        const long amount = 10_000_000;
        var invoice = await deposits.CreateInvoiceAsync(Ltc, "LTC", NewAddress(), amount, requiredConfirmations: 1, allowedErrorPercent: 5m);
        await node.Wallet.SendToAddressAsync(invoice.PaymentMethods[0].Address!, 9_600_000); // 4 % short

        await deposits.PollAsync(Ltc);
        Assert.Equal(InvoiceStatus.Confirming, (await InvoiceAsync(invoice.Id)).Status);
        await MineAsync(1);
        await deposits.PollAsync(Ltc);

        var paid = await InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirmed, paid.Status);
        Assert.Equal(InvoiceException.Underpaid, paid.Exception);
        Assert.Equal(DepositCluster.NetOf(9_600_000), (await deposits.BalanceAsync("LTC")).Available);
    }

    [Fact]
    public async Task An_overpayment_confirms_as_overpaid_and_credits_the_whole_output()
    {
        const long amount = 10_000_000;
        var invoice = await deposits.CreateInvoiceAsync(Ltc, "LTC", NewAddress(), amount, requiredConfirmations: 1);
        await node.Wallet.SendToAddressAsync(invoice.PaymentMethods[0].Address!, 12_500_000);
        await MineAsync(1);
        await deposits.PollAsync(Ltc);

        var paid = await InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirmed, paid.Status);
        Assert.Equal(InvoiceException.Overpaid, paid.Exception);
        Assert.Equal(DepositCluster.NetOf(12_500_000), (await deposits.BalanceAsync("LTC")).Available);
    }

    [Fact]
    public async Task A_payment_after_expiry_is_recorded_as_paid_late_and_credited()
    {
        const long amount = 7_000_000;
        var invoice = await deposits.CreateInvoiceAsync(Ltc, "LTC", NewAddress(), amount, requiredConfirmations: 1, expiresIn: TimeSpan.FromMinutes(10));
        await deposits.AdvanceTimeAsync(TimeSpan.FromMinutes(11));
        Assert.Equal(InvoiceStatus.Expired, (await InvoiceAsync(invoice.Id)).Status);

        await node.Wallet.SendToAddressAsync(invoice.PaymentMethods[0].Address!, amount);
        await deposits.PollAsync(Ltc);
        var late = await InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirming, late.Status);
        Assert.Equal(InvoiceException.PaidLate, late.Exception);

        await MineAsync(1);
        await deposits.PollAsync(Ltc);
        var confirmed = await InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirmed, confirmed.Status);
        Assert.Equal(InvoiceException.PaidLate, confirmed.Exception);
        Assert.Equal(DepositCluster.NetOf(amount), (await deposits.BalanceAsync("LTC")).Available);
    }

    [Fact]
    public async Task A_block_carrying_1000_payments_from_one_sendmany_confirms_1000_invoices_each_credited_once()
    {
        var invoices = new Dictionary<string, (Guid Id, long Amount)>();
        for (var i = 0; i < 1000; i++)
        {
            var amount = 100_000L + i; // distinct, so a swapped output would be caught
            var invoice = await deposits.CreateInvoiceAsync(Ltc, "LTC", NewAddress(), amount, requiredConfirmations: 1);
            invoices[invoice.PaymentMethods[0].Address!] = (invoice.Id, amount);
        }

        var txid = await node.Wallet.SendManyAsync(invoices.ToDictionary(i => i.Key, i => i.Value.Amount));
        await MineAsync(1);
        await deposits.PollAsync(Ltc);
        await deposits.PollAsync(Ltc); // a second poll of the same chain records nothing twice

        foreach (var (address, (id, amount)) in invoices)
        {
            var invoice = await InvoiceAsync(id);
            Assert.Equal(InvoiceStatus.Confirmed, invoice.Status);
            var payment = Assert.Single(invoice.PaymentMethods[0].Payments);
            Assert.Equal((txid, new BigInteger(amount)), (payment.Txid, payment.AmountUnits));
        }

        var expected = invoices.Values.Aggregate(BigInteger.Zero, (sum, i) => sum + DepositCluster.NetOf(i.Amount));
        Assert.Equal((expected, BigInteger.Zero), await deposits.BalanceAsync("LTC"));
        var snapshot = await deposits.Ledger.SnapshotAsync(CancellationToken.None);
        Assert.Equal(1000, snapshot.Outputs.Count(o => o.Txid == txid && o.Credited && o.Movements.Count == 1));
    }

    [Fact]
    public async Task A_reorganisation_unconfirms_a_confirmed_payment_reverses_its_credit_and_credits_it_again_when_remined()
    {
        const long amount = 33_000_000;
        var invoice = await deposits.CreateInvoiceAsync(Ltc, "LTC", NewAddress(), amount, requiredConfirmations: 2);
        var txid = await node.Wallet.SendToAddressAsync(invoice.PaymentMethods[0].Address!, amount);
        var paidIn = (await node.Rpc.GenerateToAddressAsync(2, miner))[0];
        await deposits.PollAsync(Ltc);
        Assert.Equal(InvoiceStatus.Confirmed, (await InvoiceAsync(invoice.Id)).Status);
        Assert.Equal((DepositCluster.NetOf(amount), BigInteger.Zero), await deposits.BalanceAsync("LTC"));

        // The block carrying the payment leaves the active chain; the transaction goes back to the mempool.
        await node.Rpc.InvalidateBlockAsync(paidIn);
        Assert.Contains(txid, await node.Rpc.GetRawMempoolAsync());
        await deposits.PollAsync(Ltc);

        var reorged = await InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirming, reorged.Status);
        Assert.Equal(InvoiceException.Reorged, reorged.Exception);
        Assert.Equal(0, reorged.PaymentMethods[0].Payments[0].Confirmations);
        Assert.Equal((BigInteger.Zero, new BigInteger(amount)), await deposits.BalanceAsync("LTC"));
        var reversed = await deposits.OutputAsync(Ltc, txid, reorged.PaymentMethods[0].Payments[0].OutputIndex);
        Assert.False(reversed.Credited);
        Assert.Equal([LedgerMovementKind.DepositCredit, LedgerMovementKind.DepositReversal], reversed.Movements.Select(m => m.Kind));

        // A longer competing chain (to another miner, so its blocks differ from the invalidated ones) mines it again:
        // confirmed and credited again, by a new movement.
        await node.Rpc.GenerateToAddressAsync(3, await node.Wallet.GetNewAddressAsync("bech32"));
        await deposits.PollAsync(Ltc);
        var again = await InvoiceAsync(invoice.Id);
        Assert.Equal(InvoiceStatus.Confirmed, again.Status);
        Assert.Equal(InvoiceException.Reorged, again.Exception);
        Assert.Equal((DepositCluster.NetOf(amount), BigInteger.Zero), await deposits.BalanceAsync("LTC"));
        var recredited = await deposits.OutputAsync(Ltc, txid, again.PaymentMethods[0].Payments[0].OutputIndex);
        Assert.True(recredited.Credited);
        Assert.Equal(3, recredited.Movements.Count);
        Assert.Equal(1, (await deposits.Grains.GetGrain<IChainWatcherGrain>(Ltc).Get()).PaymentsReorged);
        Assert.Equal(-1, (await node.Rpc.GetBlockAsync(paidIn)).Confirmations);
    }

    [Fact]
    public async Task The_poll_reminder_drives_the_runner_outside_the_turn()
    {
        const long amount = 1_500_000;
        var invoice = await deposits.CreateInvoiceAsync(Ltc, "LTC", NewAddress(), amount, requiredConfirmations: 1);
        await deposits.Runner.StartAsync();
        await node.Wallet.SendToAddressAsync(invoice.PaymentMethods[0].Address!, amount);
        await MineAsync(1);

        // The wake asks for the poll; its effects are delivered within the poll's calls, so nothing else needs to run.
        await deposits.AdvanceTimeAsync(PollInterval);
        await deposits.Runner.WhenBackgroundPollsDoneAsync();

        Assert.Equal(InvoiceStatus.Confirmed, (await InvoiceAsync(invoice.Id)).Status);
        var watcher = await deposits.Grains.GetGrain<IChainWatcherGrain>(Ltc).Get();
        Assert.Null(watcher.PollClaimedUntil); // the poll's last batch released its claim
        Assert.Equal(await node.Rpc.GetBlockCountAsync(), watcher.Height);
    }
}
