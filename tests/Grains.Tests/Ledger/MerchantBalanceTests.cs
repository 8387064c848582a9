using System.Numerics;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Memory;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Grains.Tests.Ledger;

public sealed class MemoryMerchantBalanceTests : MerchantBalanceTests
{
    protected override Task<IGrainStore> CreateStoreAsync() => Task.FromResult<IGrainStore>(new MemoryGrainStore());
}

[Collection("postgres")]
public sealed class PostgresMerchantBalanceTests(PostgresFixture postgres) : MerchantBalanceTests
{
    protected override Task<IGrainStore> CreateStoreAsync() => PostgresStoreAsync(postgres);
}

/// <summary>Crediting, de-duplication, reversal and the fee split, on both stores; the ledger invariants are checked after each test.</summary>
public abstract class MerchantBalanceTests : LedgerClusterTests
{
    private static DepositCredit Deposit(Guid merchant, BigInteger units, string? txid = null, int index = 0, string asset = "USDT", string network = "tron", Mode mode = Mode.Live) =>
        new(merchant, mode, network, asset, txid ?? Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), index, units, Guid.NewGuid());

    private Task<MerchantBalanceState> BalanceAsync(DepositCredit credit) =>
        Cluster.Client.GetGrain<IMerchantBalanceGrain>(credit.BalanceKey).Get();

    private Task<LedgerOutputState> OutputAsync(DepositCredit credit) =>
        Cluster.Client.GetGrain<ILedgerOutputGrain>(credit.OutputKey).Get();

    [Fact]
    public async Task A_credit_message_moves_the_deposit_to_the_merchant_less_the_fee()
    {
        var credit = Deposit(Guid.NewGuid(), 100_000_000);
        await Cluster.Client.GetGrain<ILedgerSenderGrain>("sender").SendCredit(credit, 1);
        await Cluster.RunUntilIdleAsync();

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
    public async Task The_same_output_credited_by_duplicate_messages_from_two_silos_and_direct_calls_is_credited_once()
    {
        var credit = Deposit(Guid.NewGuid(), 5_000_000, index: 3);
        await Task.WhenAll(
            Cluster.FactoryOf(0).GetGrain<ILedgerSenderGrain>("a").SendCredit(credit, 3),
            Cluster.FactoryOf(1).GetGrain<ILedgerSenderGrain>("b").SendCredit(credit, 2),
            Cluster.FactoryOf(0).GetGrain<ILedgerOutputGrain>(credit.OutputKey).Credit(credit),
            Cluster.FactoryOf(1).GetGrain<ILedgerOutputGrain>(credit.OutputKey).Credit(credit));
        await Cluster.RunUntilIdleAsync();
        await Cluster.FactoryOf(1).GetGrain<ILedgerSenderGrain>("b").SendCredit(credit with { InvoiceId = Guid.NewGuid() }, 1);
        await Cluster.RunUntilIdleAsync();

        Assert.Single((await OutputAsync(credit)).Movements);
        var balance = await BalanceAsync(credit);
        Assert.Equal(1, balance.MovementCount);
        Assert.Equal(new BigInteger(4_875_000), balance.Available);
    }

    [Fact]
    public async Task A_credit_sent_by_a_silo_killed_after_its_commit_is_redelivered_by_another_silo_once()
    {
        var credit = Deposit(Guid.NewGuid(), 1_000, asset: "BTC", network: "btc");
        await Cluster.FactoryOf(0).GetGrain<ILedgerSenderGrain>("dying").SendCredit(credit, 1);
        Cluster.KillSilo(0);
        await Cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(1));
        await Cluster.RestartSiloAsync(0);
        await Cluster.FactoryOf(0).GetGrain<ILedgerSenderGrain>("dying").SendCredit(credit, 1);
        await Cluster.AdvanceTimeAsync(TimeSpan.FromMinutes(1));

        var balance = await BalanceAsync(credit);
        Assert.Equal("BTC", balance.Asset);
        Assert.Equal(1, balance.MovementCount);
        Assert.Equal(new BigInteger(975), balance.Available);
        Assert.Single((await OutputAsync(credit)).Movements);
    }

    [Fact]
    public async Task A_reversal_adds_compensating_entries_and_restores_the_balances()
    {
        var merchant = Guid.NewGuid();
        var kept = Deposit(merchant, 2_000_000);
        var reorged = Deposit(merchant, 7_000_000);
        var sender = Cluster.Client.GetGrain<ILedgerSenderGrain>("sender");
        await sender.SendCredit(kept, 1);
        await sender.SendCredit(reorged, 1);
        await Cluster.RunUntilIdleAsync();
        Assert.Equal(new BigInteger(1_950_000 + 6_825_000), (await BalanceAsync(kept)).Available);

        await sender.SendReverse(reorged);
        await sender.SendReverse(reorged);
        await Cluster.RunUntilIdleAsync();

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
        await Cluster.RunUntilIdleAsync();
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
        await Cluster.Client.GetGrain<ILedgerSenderGrain>("sender").SendCredit(credit, 1);
        await Cluster.RunUntilIdleAsync();

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
        await Cluster.Client.GetGrain<ILedgerSenderGrain>("sender").SendCredit(credit, 1);
        await Cluster.RunUntilIdleAsync();

        var balances = await LedgerQueries.For(Store).BalancesAsync(credit.MerchantId, Mode.Live, CancellationToken.None);
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
        await Cluster.Client.GetGrain<IMerchantBalanceGrain>(live.BalanceKey).Detect(live);
        Assert.Equal(new BigInteger(3_000_000), (await BalanceAsync(live)).Pending);

        await Cluster.Client.GetGrain<ILedgerSenderGrain>("sender").SendCredit(live, 1);
        await Cluster.Client.GetGrain<ILedgerSenderGrain>("sender").SendCredit(test, 1);
        await Cluster.RunUntilIdleAsync();
        await Cluster.Client.GetGrain<IMerchantBalanceGrain>(live.BalanceKey).Detect(live);

        var query = LedgerQueries.For(Store);
        var liveBalance = Assert.Single(await query.BalancesAsync(merchant, Mode.Live, CancellationToken.None));
        Assert.Equal(("USDT-TRON", new BigInteger(2_925_000), BigInteger.Zero), (liveBalance.Asset, liveBalance.Available, liveBalance.Pending));
        var testBalance = Assert.Single(await query.BalancesAsync(merchant, Mode.Test, CancellationToken.None));
        Assert.Equal(("USDT-SANDBOX", new BigInteger(3_900_000)), (testBalance.Asset, testBalance.Available));
    }

    [Fact]
    public async Task A_second_owner_or_amount_for_a_credited_output_is_refused()
    {
        var credit = Deposit(Guid.NewGuid(), 1_000_000);
        await Cluster.Client.GetGrain<ILedgerOutputGrain>(credit.OutputKey).Credit(credit);
        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            Cluster.Client.GetGrain<ILedgerOutputGrain>(credit.OutputKey).Credit(credit with { AmountUnits = 2_000_000 }));
        Assert.Contains("one output, one owner", error.Message, StringComparison.Ordinal);
        await Cluster.RunUntilIdleAsync();
        Assert.Equal(new BigInteger(975_000), (await BalanceAsync(credit)).Available);
    }
}
