using System.Numerics;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.TestSupport.Postgres;
using Npgsql;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Tests.Ledger;

public sealed class MemoryMerchantBalanceTests : MerchantBalanceTests;

[Collection("postgres")]
public sealed class PostgresMerchantBalanceTests(PostgresFixture postgres) : MerchantBalanceTests
{
    protected override Task<NpgsqlDataSource?> CreateDataSourceAsync() => PostgresDataSourceAsync(postgres);
}

/// <summary>Crediting, de-duplication, reversal and the fee split, on both stores; the ledger invariants are checked after each test.</summary>
public abstract class MerchantBalanceTests : LedgerClusterTests
{
    private static DepositCredit Deposit(Guid merchant, BigInteger units, string? txid = null, int index = 0, string asset = "USDT", string network = "tron", Mode mode = Mode.Live) =>
        new(merchant, mode, network, asset, txid ?? Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), index, units, Guid.NewGuid());

    private Task<MerchantBalanceState> BalanceAsync(DepositCredit credit) =>
        Cluster.Grains.GetGrain<IMerchantBalanceGrain>(credit.BalanceKey).Get();

    private Task<LedgerOutputState> OutputAsync(DepositCredit credit) =>
        Cluster.Grains.GetGrain<ILedgerOutputGrain>(credit.OutputKey).Get();

    [Fact]
    public async Task A_credit_effect_moves_the_deposit_to_the_merchant_less_the_fee()
    {
        var credit = Deposit(Guid.NewGuid(), 100_000_000);
        await Cluster.Grains.GetGrain<ILedgerSenderGrain>("sender").SendCredit(credit, 1);
        await Cluster.RunDueWorkAsync();

        var balance = await BalanceAsync(credit);
        Assert.Equal("USDT-TRON", balance.Asset);
        Assert.Equal(6, balance.Decimals);
        Assert.Equal(new BigInteger(97_500_000), balance.Available);
        Assert.Equal(new BigInteger(2_500_000), balance.Fees);
        Assert.Equal(1, balance.MovementCount);

        var movement = Assert.Single((await OutputAsync(credit)).Movements);
        Assert.Equal(LedgerMovementKind.DepositCredit, movement.Kind);
        Assert.Equal(
            [("deposits:tron", -100_000_000), ($"merchant:{credit.MerchantId:D}:live:available", 97_500_000), ("operator:fees", 2_500_000)],
            movement.Entries.Select(e => (e.Account, (long)e.Amount)));
        Assert.All(movement.Entries, e => Assert.Equal("USDT-TRON", e.Asset));
    }

    [Fact]
    public async Task The_same_output_credited_by_duplicate_effects_from_two_senders_and_direct_calls_is_credited_once()
    {
        // The old runtime raced two silos; on Orleans the output grain is one activation cluster-wide, so the race is
        // between senders and direct deliveries, and a redelivered effect (same sender and number) must be applied once.
        var credit = Deposit(Guid.NewGuid(), 5_000_000, index: 3);
        var direct = Direct(new CreditOutput(credit));
        await Task.WhenAll(
            Cluster.Grains.GetGrain<ILedgerSenderGrain>("a").SendCredit(credit, 3),
            Cluster.Grains.GetGrain<ILedgerSenderGrain>("b").SendCredit(credit, 2),
            Cluster.Grains.GetGrain<ILedgerOutputGrain>(credit.OutputKey).Credit(direct),
            Cluster.Grains.GetGrain<ILedgerOutputGrain>(credit.OutputKey).Credit(direct),
            Cluster.Grains.GetGrain<ILedgerOutputGrain>(credit.OutputKey).Credit(Direct(new CreditOutput(credit))));
        await Cluster.RunDueWorkAsync();
        await Cluster.Grains.GetGrain<ILedgerSenderGrain>("b").SendCredit(credit with { InvoiceId = Guid.NewGuid() }, 1);
        await Cluster.RunDueWorkAsync();

        Assert.Single((await OutputAsync(credit)).Movements);
        var balance = await BalanceAsync(credit);
        Assert.Equal(1, balance.MovementCount);
        Assert.Equal(new BigInteger(4_875_000), balance.Available);
    }

    [Fact]
    public async Task A_credit_effect_delivered_again_after_a_reversal_is_not_credited_again()
    {
        // The guarantee the runtime's exactly-once delivery gave: the same effect delivered twice is applied once,
        // even when the output's state would accept a new credit (it was reversed in between).
        var credit = Deposit(Guid.NewGuid(), 2_000_000);
        var output = Cluster.Grains.GetGrain<ILedgerOutputGrain>(credit.OutputKey);
        var effect = Direct(new CreditOutput(credit));
        await output.Credit(effect);
        await output.Reverse(Direct(new ReverseOutput(credit.OutputKey)));
        await output.Credit(effect);

        var journal = await OutputAsync(credit);
        Assert.False(journal.Credited);
        Assert.Equal([LedgerMovementKind.DepositCredit, LedgerMovementKind.DepositReversal], journal.Movements.Select(m => m.Kind));
        var balance = await BalanceAsync(credit);
        Assert.Equal((BigInteger.Zero, 2L), (balance.Available, balance.MovementCount));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_credit_committed_by_a_sender_that_died_before_or_after_delivering_is_credited_once(bool afterDelivering)
    {
        // The old test killed the sender's silo after its commit; here the sender writes its effect and loses its
        // activation before delivering it (its wake reminder delivers) or after (its next activation delivers the
        // same effect again). A new credit after that is not applied twice either.
        var credit = Deposit(Guid.NewGuid(), 1_000, asset: "BTC", network: "btc");
        await Cluster.Grains.GetGrain<ILedgerSenderGrain>("dying").CommitCreditAndCrash(credit, 1, afterDelivering);
        Assert.Equal(afterDelivering ? 1 : 0, (await BalanceAsync(credit)).MovementCount);
        await Cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(1));
        await Cluster.Grains.GetGrain<ILedgerSenderGrain>("dying").SendCredit(credit, 1);
        await Cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(1));

        var balance = await BalanceAsync(credit);
        Assert.Equal("BTC", balance.Asset);
        Assert.Equal(1, balance.MovementCount);
        Assert.Equal(new BigInteger(975), balance.Available);
        Assert.Single((await OutputAsync(credit)).Movements);
    }

    [Fact]
    public async Task A_credit_posts_to_the_balance_and_then_writes_its_output_once()
    {
        var credit = Deposit(Guid.NewGuid(), 4_000_000);
        await Cluster.Grains.GetGrain<ILedgerSenderGrain>("sender").SendCredit(credit, 1);
        await Cluster.RunDueWorkAsync();

        Assert.Single((await OutputAsync(credit)).Movements);
        // One write of the output's row (version 1): the posting was delivered before it, not kept in a stored outbox.
        Assert.Equal("1", await OutputVersionAsync(credit));
        Assert.Equal(new BigInteger(3_900_000), (await BalanceAsync(credit)).Available);
    }

    [Fact]
    public async Task An_output_that_lost_the_balance_acknowledgement_before_its_write_is_credited_once_when_the_credit_comes_again()
    {
        // The balance applies the posting but its answer is lost: the output's unwritten credit is dropped with its
        // activation, the sender keeps its effect and resends it, and the output posts the same movement id again,
        // which the balance recognises.
        var credit = Deposit(Guid.NewGuid(), 8_000_000);
        Failures.FailNext(Cluster.Grains.GetGrain<IMerchantBalanceGrain>(credit.BalanceKey).GetGrainId(), 1, afterApplying: true);
        await Cluster.Grains.GetGrain<ILedgerSenderGrain>("sender").SendCredit(credit, 1);
        Assert.Equal(1, (await BalanceAsync(credit)).MovementCount);
        Assert.Empty((await OutputAsync(credit)).Movements);

        await Cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(1));

        var balance = await BalanceAsync(credit);
        Assert.Equal((1L, new BigInteger(7_800_000)), (balance.MovementCount, balance.Available));
        Assert.Single((await OutputAsync(credit)).Movements);
        Assert.Equal("1", await OutputVersionAsync(credit));
    }

    [Fact]
    public async Task A_posting_whose_acknowledgement_was_lost_is_recognised_however_many_postings_reach_the_balance_before_it_comes_again()
    {
        // As above, but before the sender resends, more postings reach the same balance than its window of recent
        // movement ids holds. The resent posting must still be recognised (the guarantee is "each id once", not "each
        // id once among the latest 1,024"), and once every output has written its journal the balance keeps no id for
        // redeliveries that can no longer come.
        var merchant = Guid.NewGuid();
        var credit = Deposit(merchant, 8_000_000);
        Failures.FailNext(Cluster.Grains.GetGrain<IMerchantBalanceGrain>(credit.BalanceKey).GetGrainId(), 1, afterApplying: true);
        await Cluster.Grains.GetGrain<ILedgerSenderGrain>("sender").SendCredit(credit, 1);
        Assert.Empty((await OutputAsync(credit)).Movements);

        var others = Enumerable.Range(0, MerchantBalanceGrain.RecentMovementWindow + 16).Select(_ => Deposit(merchant, 1_000)).ToList();
        foreach (var chunk in others.Chunk(64))
        {
            await Task.WhenAll(chunk.Select(c => Cluster.Grains.GetGrain<ILedgerOutputGrain>(c.OutputKey).Credit(Direct(new CreditOutput(c)))));
        }

        await Cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(1));

        var balance = await BalanceAsync(credit);
        Assert.Equal(others.Count + 1, balance.MovementCount);
        Assert.Equal(new BigInteger(7_800_000) + (others.Count * new BigInteger(975)), balance.Available);
        Assert.Single((await OutputAsync(credit)).Movements);
        Assert.Empty(balance.UnsettledMovementIds);
    }

    [Fact]
    public async Task A_settlement_lost_with_the_balance_activation_is_made_by_its_next_activation_from_the_output_journal()
    {
        var credit = Deposit(Guid.NewGuid(), 3_000_000);
        await Cluster.Grains.GetGrain<ILedgerSenderGrain>("sender").SendCredit(credit, 1);
        await Cluster.RunDueWorkAsync();
        // The output's settlement is carried by the balance's next write, and none comes before the balance is deactivated.
        var posted = Assert.Single((await OutputAsync(credit)).Movements).Id;
        Assert.Equal(posted, Assert.Single((await StoredBalanceAsync(credit)).UnsettledMovementIds));
        await Cluster.DeactivateAllAsync();

        Assert.Equal(1, (await BalanceAsync(credit)).MovementCount);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await StoredBalanceAsync(credit)).UnsettledMovementIds.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Empty((await StoredBalanceAsync(credit)).UnsettledMovementIds);
        Assert.Equal(new BigInteger(2_925_000), (await BalanceAsync(credit)).Available);
    }

    private async Task<string?> OutputVersionAsync(DepositCredit credit) =>
        (await StoredAsync<LedgerOutputState>(LedgerProjections.OutputStateName, Cluster.Grains.GetGrain<ILedgerOutputGrain>(credit.OutputKey).GetGrainId())).ETag;

    /// <summary>The balance as stored, not as its activation holds it.</summary>
    private async Task<MerchantBalanceState> StoredBalanceAsync(DepositCredit credit) =>
        (await StoredAsync<MerchantBalanceState>(LedgerProjections.BalanceStateName, Cluster.Grains.GetGrain<IMerchantBalanceGrain>(credit.BalanceKey).GetGrainId())).State!.State;

    private async Task<GrainState<GrainRecord<TState>>> StoredAsync<TState>(string stateName, GrainId grain) where TState : class, new()
    {
        var state = new GrainState<GrainRecord<TState>>();
        await Cluster.Storage.ReadStateAsync(stateName, grain, state);
        return state;
    }

    [Fact]
    public async Task A_reversal_adds_compensating_entries_and_restores_the_balances()
    {
        var merchant = Guid.NewGuid();
        var kept = Deposit(merchant, 2_000_000);
        var reorged = Deposit(merchant, 7_000_000);
        var sender = Cluster.Grains.GetGrain<ILedgerSenderGrain>("sender");
        await sender.SendCredit(kept, 1);
        await sender.SendCredit(reorged, 1);
        await Cluster.RunDueWorkAsync();
        Assert.Equal(new BigInteger(1_950_000 + 6_825_000), (await BalanceAsync(kept)).Available);

        await sender.SendReverse(reorged);
        await sender.SendReverse(reorged);
        await Cluster.RunDueWorkAsync();

        var balance = await BalanceAsync(kept);
        Assert.Equal(new BigInteger(1_950_000), balance.Available);
        Assert.Equal(new BigInteger(2_000_000), balance.Deposited);
        Assert.Equal(new BigInteger(50_000), balance.Fees);
        var journal = await OutputAsync(reorged);
        Assert.False(journal.Credited);
        Assert.Equal([LedgerMovementKind.DepositCredit, LedgerMovementKind.DepositReversal], journal.Movements.Select(m => m.Kind));
        Assert.Equal(journal.Movements[0].Entries.Select(e => (e.Account, -e.Amount)), journal.Movements[1].Entries.Select(e => (e.Account, e.Amount)));

        // Back in a block of the longer chain: credited again, as a new movement.
        await sender.SendCredit(reorged, 1);
        await Cluster.RunDueWorkAsync();
        Assert.Equal(3, (await OutputAsync(reorged)).Movements.Count);
        Assert.Equal(new BigInteger(1_950_000 + 6_825_000), (await BalanceAsync(kept)).Available);
    }

    [Theory]
    [InlineData(1_000_001, 25_000, 975_001)]
    [InlineData(39, 0, 39)]
    [InlineData(40, 1, 39)]
    [InlineData(79, 1, 78)]
    [InlineData(1, 0, 1)]
    public async Task The_fee_is_gross_times_basis_points_rounded_down_and_the_split_is_exact(long gross, long fee, long net)
    {
        var credit = Deposit(Guid.NewGuid(), gross, asset: "ETH", network: "eth");
        await Cluster.Grains.GetGrain<ILedgerSenderGrain>("sender").SendCredit(credit, 1);
        await Cluster.RunDueWorkAsync();

        var balance = await BalanceAsync(credit);
        Assert.Equal((new BigInteger(net), new BigInteger(fee)), (balance.Available, balance.Fees));
        var movement = Assert.Single((await OutputAsync(credit)).Movements);
        Assert.Equal(new BigInteger(fee), movement.AmountOn(LedgerKeys.OperatorFees));
        Assert.Equal(fee == 0 ? 2 : 3, movement.Entries.Count);
    }

    [Fact]
    public async Task A_huge_wei_amount_is_exact()
    {
        var gross = BigInteger.Parse("123456789012345678901234567", System.Globalization.CultureInfo.InvariantCulture);
        var credit = Deposit(Guid.NewGuid(), gross, asset: "ETH", network: "eth");
        await Cluster.Grains.GetGrain<ILedgerSenderGrain>("sender").SendCredit(credit, 1);
        await Cluster.RunDueWorkAsync();

        var balances = await Cluster.Ledger.BalancesAsync(credit.MerchantId, Mode.Live, CancellationToken.None);
        var balance = Assert.Single(balances);
        Assert.Equal(gross - gross * FeeBasisPoints / 10_000, balance.Available);
        Assert.Equal("120370369.287037036928703703", LedgerKeys.FormatUnits(balance.Available, balance.Decimals));
    }

    [Fact]
    public async Task Detected_outputs_are_pending_until_credited_and_balances_stay_per_mode()
    {
        var merchant = Guid.NewGuid();
        var live = Deposit(merchant, 3_000_000);
        var test = Deposit(merchant, 4_000_000, asset: "USDT", network: "sandbox", mode: Mode.Test);
        await Cluster.Grains.GetGrain<IMerchantBalanceGrain>(live.BalanceKey).ShowPending(Direct(new ShowPending(live, PendingChange.Detect)));
        Assert.Equal(new BigInteger(3_000_000), (await BalanceAsync(live)).Pending);

        await Cluster.Grains.GetGrain<ILedgerSenderGrain>("sender").SendCredit(live, 1);
        await Cluster.Grains.GetGrain<ILedgerSenderGrain>("sender").SendCredit(test, 1);
        await Cluster.RunDueWorkAsync();
        await Cluster.Grains.GetGrain<IMerchantBalanceGrain>(live.BalanceKey).ShowPending(Direct(new ShowPending(live, PendingChange.Detect)));

        var query = Cluster.Ledger;
        var liveBalance = Assert.Single(await query.BalancesAsync(merchant, Mode.Live, CancellationToken.None));
        Assert.Equal(("USDT-TRON", new BigInteger(2_925_000), BigInteger.Zero), (liveBalance.Asset, liveBalance.Available, liveBalance.Pending));
        var testBalance = Assert.Single(await query.BalancesAsync(merchant, Mode.Test, CancellationToken.None));
        Assert.Equal(("USDT-SANDBOX", new BigInteger(3_900_000)), (testBalance.Asset, testBalance.Available));
    }

    [Fact]
    public async Task A_second_owner_or_amount_for_a_credited_output_is_refused()
    {
        var credit = Deposit(Guid.NewGuid(), 1_000_000);
        await Cluster.Grains.GetGrain<ILedgerOutputGrain>(credit.OutputKey).Credit(Direct(new CreditOutput(credit)));
        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            Cluster.Grains.GetGrain<ILedgerOutputGrain>(credit.OutputKey).Credit(Direct(new CreditOutput(credit with { AmountUnits = 2_000_000 }))));
        Assert.Contains("one output, one owner", error.Message, StringComparison.Ordinal);
        await Cluster.RunDueWorkAsync();
        Assert.Equal(new BigInteger(975_000), (await BalanceAsync(credit)).Available);
    }
}
