using System.Numerics;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Tests.Ledger;

namespace CryptoPay.Grains.Tests.Deposits;

/// <summary>
/// The chain watcher's Record turn on hand-made batches (the node-facing runner is proven in Integration.Tests):
/// stale batches refused, continuity enforced, confirmations and reorganisations passed on to invoices and the ledger.
/// </summary>
public sealed class ChainWatcherTests : LedgerClusterTests
{
    private const string Net = "ltc";
    private static readonly string Address = "rltc1qw508d6qejxtdg4y5r3zarvary0c5xw7kgmn4n9";

    private IChainWatcherGrain Watcher => Cluster.Grains.GetGrain<IChainWatcherGrain>(Net);

    private static string Hash(string name) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name)));

    private static ObservedBlock Mined(long height, string name, string previous, params ObservedPayment[] payments) =>
        new(height, Hash(name), Hash(previous), payments);

    private async Task<ChainBatchOutcome> RecordAsync(long forkHeight, string? fork, IReadOnlyList<ObservedBlock> blocks, IReadOnlyList<ObservedPayment>? mempool = null)
    {
        var cursor = await Watcher.GetCursor();
        var outcome = await Watcher.Record(new ChainBatch(cursor.Height, cursor.TipHash, forkHeight, fork is null ? null : Hash(fork), blocks, mempool ?? [], 10, true));
        await Cluster.RunDueWorkAsync();
        return outcome;
    }

    private async Task<InvoiceState> CreateInvoiceAsync(long amountUnits, int required)
    {
        var now = Cluster.Clock.GetUtcNow();
        return await Cluster.Grains.GetGrain<IInvoiceGrain>(Guid.NewGuid()).Create(new InvoiceSpec
        {
            MerchantId = Guid.NewGuid(),
            Mode = Mode.Live,
            Amount = 1m,
            Currency = "LTC",
            CreatedAt = now,
            ExpiresAt = now.AddMinutes(30),
            AmountReporting = 1m,
            PaymentMethods =
            [
                new InvoicePaymentMethod
                {
                    Method = "ltc_ltc", Network = Net, Asset = "LTC", Decimals = 8, Amount = 1m, AmountUnits = amountUnits,
                    Rate = 1m, RequiredConfirmations = required, Address = Address,
                },
            ],
        });
    }

    private async Task<MerchantBalanceState> BalanceOf(InvoiceState invoice) =>
        await Cluster.Grains.GetGrain<IMerchantBalanceGrain>(LedgerKeys.Balance(invoice.Spec.MerchantId, Mode.Live, "LTC")).Get();

    [Fact]
    public async Task A_poll_tick_on_a_silo_that_cannot_poll_claims_nothing()
    {
        // This cluster's silo runs no chain watch runner (no watchers role): a claim would stall the network.
        await Watcher.Start(TimeSpan.FromSeconds(5));
        await Cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(11));
        Assert.Null((await Watcher.Get()).PollClaimedUntil);
    }

    [Fact]
    public async Task A_batch_read_on_an_old_cursor_is_refused_and_a_batch_that_does_not_follow_the_chain_throws()
    {
        Assert.Equal(ChainBatchOutcome.Recorded, await RecordAsync(99, "b99", [Mined(100, "b100", "b99")]));
        var stale = new ChainBatch(-1, null, 99, Hash("b99"), [Mined(100, "b100", "b99")], [], 10, true);
        Assert.Equal(ChainBatchOutcome.Stale, await Watcher.Record(stale));

        await Assert.ThrowsAsync<ChainContinuityException>(() => RecordAsync(100, "b100", [Mined(101, "b101", "other")]));
        await Assert.ThrowsAsync<ChainContinuityException>(() => RecordAsync(100, "not-remembered", [Mined(101, "b101", "not-remembered")]));
        Assert.Equal(100, (await Watcher.GetCursor()).Height);
    }

    [Fact]
    public async Task Confirmations_follow_new_blocks_and_a_reorganised_payment_is_reversed_then_removed()
    {
        var invoice = await CreateInvoiceAsync(1_000_000, required: 2);
        var payment = new ObservedPayment(invoice.Id, Address, Hash("tx"), 1, 1_000_000, 2);
        await RecordAsync(9, "b9", [Mined(10, "b10", "b9")]);

        await RecordAsync(10, "b10", [], mempool: [payment]);
        Assert.Equal(InvoiceStatus.Confirming, (await Cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id).Get())!.Status);
        Assert.Equal(new BigInteger(1_000_000), (await BalanceOf(invoice)).Pending);

        await RecordAsync(10, "b10", [Mined(11, "b11", "b10", payment), Mined(12, "b12", "b11")]);
        var confirmed = (await Cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id).Get())!;
        Assert.Equal((InvoiceStatus.Confirmed, 2), (confirmed.Status, confirmed.PaymentMethods[0].Payments[0].Confirmations));
        var credited = await BalanceOf(invoice);
        Assert.Equal((1_000_000 - 25_000, BigInteger.Zero), ((long)credited.Available, credited.Pending));

        // Blocks 11 and 12 replaced by a chain without the payment, which is back in the mempool.
        await RecordAsync(10, "b10", [Mined(11, "c11", "b10"), Mined(12, "c12", "c11"), Mined(13, "c13", "c12")], mempool: [payment]);
        var unconfirmed = (await Cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id).Get())!;
        Assert.Equal((InvoiceStatus.Confirming, InvoiceException.Reorged, 0), (unconfirmed.Status, unconfirmed.Exception, unconfirmed.PaymentMethods[0].Payments[0].Confirmations));
        var reversed = await BalanceOf(invoice);
        Assert.Equal((BigInteger.Zero, new BigInteger(1_000_000)), (reversed.Available, reversed.Pending));

        // Then it leaves the mempool without a block (replaced): gone from the invoice and from the pending balance.
        await RecordAsync(13, "c13", [Mined(14, "c14", "c13")], mempool: []);
        var gone = (await Cluster.Grains.GetGrain<IInvoiceGrain>(invoice.Id).Get())!;
        Assert.Equal((InvoiceStatus.Pending, InvoiceException.Reorged), (gone.Status, gone.Exception));
        Assert.Empty(gone.PaymentMethods[0].Payments);
        var after = await BalanceOf(invoice);
        Assert.Equal((BigInteger.Zero, BigInteger.Zero), (after.Available, after.Pending));
        var state = await Watcher.Get();
        Assert.Empty(state.Mempool);
        Assert.Equal(1, state.PaymentsReorged);
    }
}
