using System.Numerics;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Withdrawals;
using CryptoPay.TestSupport.Postgres;
using Npgsql;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Tests.Ledger;

public sealed class MemoryWithdrawalReservationTests : WithdrawalReservationTests;

[Collection("postgres")]
public sealed class PostgresWithdrawalReservationTests(PostgresFixture postgres) : WithdrawalReservationTests
{
    protected override Task<NpgsqlDataSource?> CreateDataSourceAsync() => PostgresDataSourceAsync(postgres);
}

/// <summary>
/// Reservations on a merchant's balance: available → reserved once per withdrawal however often asked, refused when short,
/// released or paid out once however often the effect is delivered; the ledger invariants are checked after each test.
/// </summary>
public abstract class WithdrawalReservationTests : LedgerClusterTests
{
    // 100 USDT deposited, 2.5 % fee: 97.5 USDT available.
    private const long Deposit = 100_000_000;
    private const long Available = 97_500_000;

    private async Task<Guid> FundedMerchantAsync()
    {
        var merchant = Guid.NewGuid();
        var credit = new DepositCredit(merchant, Mode.Live, "tron", "USDT", Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), 0, Deposit, Guid.NewGuid());
        await Cluster.Grains.GetGrain<ILedgerSenderGrain>($"sender-{merchant:N}").SendCredit(credit, 1);
        await Cluster.RunDueWorkAsync();
        Assert.Equal(new BigInteger(Available), (await BalanceAsync(merchant)).Available);
        return merchant;
    }

    private Task<MerchantBalanceState> BalanceAsync(Guid merchant) =>
        Cluster.Grains.GetGrain<IMerchantBalanceGrain>(LedgerKeys.Balance(merchant, Mode.Live, "USDT-TRON")).Get();

    private WithdrawalSpec Spec(Guid merchant, long amount, long fee = 1_000_000, bool review = false) => new()
    {
        Id = Guid.NewGuid(),
        MerchantId = merchant,
        Mode = Mode.Live,
        AssetCode = "USDT",
        Network = "tron",
        Asset = "USDT-TRON",
        Decimals = 6,
        AmountUnits = amount,
        FeeUnits = fee,
        Address = "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7",
        NeedsReview = review,
        CreatedAt = Cluster.Clock.GetUtcNow(),
    };

    private static BalancePosting Posting(WithdrawalSpec spec, LedgerMovement movement) => new(spec.MerchantId, spec.Mode, spec.Network, spec.AssetCode, movement);

    [Fact]
    public async Task A_withdrawal_reserves_amount_plus_fee_once_however_often_the_reserve_is_repeated()
    {
        var merchant = await FundedMerchantAsync();
        var spec = Spec(merchant, 40_000_000);
        var grain = Cluster.Grains.GetGrain<IWithdrawalGrain>(spec.Id);

        var created = (await grain.Create(spec)).Withdrawal!;
        Assert.Equal(WithdrawalStatus.Queued, created.Status);
        var reserve = Assert.Single(created.Movements);
        Assert.Equal(
            [($"merchant:{merchant:D}:live:available", -41_000_000L), ($"merchant:{merchant:D}:live:reserved", 41_000_000L)],
            reserve.Entries.Select(e => (e.Account, (long)e.Amount)));

        // The request again (a client retry), the reserve again (a redelivered or timed-out call), side by side.
        var balance = Cluster.Grains.GetGrain<IMerchantBalanceGrain>(spec.BalanceKey);
        var repeats = await Task.WhenAll(
            balance.Reserve(Posting(spec, reserve)), balance.Reserve(Posting(spec, reserve)), balance.Reserve(Posting(spec, reserve)));
        Assert.All(repeats, r => Assert.Equal(ReservationOutcome.Reserved, r));
        Assert.Equal(created.Movements.Select(m => m.Id), (await grain.Create(spec)).Withdrawal!.Movements.Select(m => m.Id));

        var state = await BalanceAsync(merchant);
        Assert.Equal((Available - 41_000_000, 41_000_000L), ((long)state.Available, (long)state.Reserved));
        Assert.Equal(2, state.MovementCount);
    }

    [Fact]
    public async Task A_reserve_beyond_available_is_refused_and_changes_nothing()
    {
        var merchant = await FundedMerchantAsync();
        // 97 + 1 fee > 97.5 available: refused although the amount alone would fit.
        var spec = Spec(merchant, 97_000_000);

        var result = await Cluster.Grains.GetGrain<IWithdrawalGrain>(spec.Id).Create(spec);
        Assert.Null(result.Withdrawal);
        Assert.Equal(ReservationOutcome.InsufficientBalance, result.Refusal);
        Assert.Null(await Cluster.Grains.GetGrain<IWithdrawalGrain>(spec.Id).Get());

        var exact = Spec(merchant, 96_500_000);
        Assert.Equal(WithdrawalStatus.Queued, (await Cluster.Grains.GetGrain<IWithdrawalGrain>(exact.Id).Create(exact)).Withdrawal!.Status);
        var state = await BalanceAsync(merchant);
        Assert.Equal((0L, Available), ((long)state.Available, (long)state.Reserved));
    }

    [Fact]
    public async Task Concurrent_withdrawals_reserve_exactly_what_the_balance_affords_and_never_go_below_zero()
    {
        var merchant = await FundedMerchantAsync();
        // Each reserves 10 + 1 = 11 USDT: 8 fit in 97.5, 12 must be refused.
        var specs = Enumerable.Range(0, 20).Select(_ => Spec(merchant, 10_000_000)).ToList();

        var results = await Task.WhenAll(specs.Select(s => Cluster.Grains.GetGrain<IWithdrawalGrain>(s.Id).Create(s)));

        Assert.Equal(8, results.Count(r => r.Withdrawal is not null));
        Assert.Equal(12, results.Count(r => r.Refusal == ReservationOutcome.InsufficientBalance));
        var state = await BalanceAsync(merchant);
        Assert.Equal((Available - 88_000_000, 88_000_000L), ((long)state.Available, (long)state.Reserved));
        Assert.Equal(8, state.Reservations.Count);
    }

    [Fact]
    public async Task A_release_delivered_again_is_applied_once_and_a_late_reserve_cannot_reserve_again()
    {
        var merchant = await FundedMerchantAsync();
        var spec = Spec(merchant, 20_000_000, review: true);
        var grain = Cluster.Grains.GetGrain<IWithdrawalGrain>(spec.Id);
        var created = (await grain.Create(spec)).Withdrawal!;
        Assert.Equal(WithdrawalStatus.Review, created.Status);

        var rejected = await grain.Reject("destination under sanctions");
        Assert.Equal((WithdrawalStatus.Rejected, "destination under sanctions"), (rejected.Status, rejected.Reason));
        Assert.Equal([LedgerMovementKind.WithdrawalReservation, LedgerMovementKind.WithdrawalRelease], rejected.Movements.Select(m => m.Kind));
        await Cluster.RunDueWorkAsync();

        var balance = Cluster.Grains.GetGrain<IMerchantBalanceGrain>(spec.BalanceKey);
        var release = Direct(new ReleaseReservation(spec.BalanceKey, Posting(spec, rejected.Movements[1])));
        await balance.Release(release);
        await balance.Release(release);
        Assert.Equal(ReservationOutcome.Closed, await balance.Reserve(Posting(spec, rejected.Movements[0])));
        Assert.Equal(rejected.Status, (await grain.Reject("again")).Status);

        var state = await BalanceAsync(merchant);
        Assert.Equal((Available, 0L, 3L), ((long)state.Available, (long)state.Reserved, state.MovementCount));
        await Assert.ThrowsAsync<InvalidWithdrawalTransitionException>(() => grain.Approve());
    }

    [Fact]
    public async Task A_completed_withdrawal_pays_the_reservation_out_once_with_the_fee_to_the_operator()
    {
        var merchant = await FundedMerchantAsync();
        var spec = Spec(merchant, 30_000_000);
        var grain = Cluster.Grains.GetGrain<IWithdrawalGrain>(spec.Id);
        await grain.Create(spec);
        await Assert.ThrowsAsync<InvalidWithdrawalTransitionException>(() => grain.Complete("ab12"));
        await grain.StartProcessing("settlement-1");
        var completed = await grain.Complete("ab12");
        Assert.Equal(WithdrawalStatus.Completed, completed.Status);
        await Cluster.RunDueWorkAsync();

        var payout = completed.Movements[1];
        Assert.Equal(
            [($"merchant:{merchant:D}:live:reserved", -31_000_000L), ("payouts:tron", 30_000_000L), ("operator:fees", 1_000_000L)],
            payout.Entries.Select(e => (e.Account, (long)e.Amount)));
        var balance = Cluster.Grains.GetGrain<IMerchantBalanceGrain>(spec.BalanceKey);
        await balance.PayOut(Direct(new PayOutReservation(spec.BalanceKey, Posting(spec, payout))));
        await balance.PayOut(Direct(new PayOutReservation(spec.BalanceKey, Posting(spec, payout))));
        Assert.Equal(completed.Status, (await grain.Complete("ab12")).Status);

        var state = await BalanceAsync(merchant);
        Assert.Equal((Available - 31_000_000, 0L, 30_000_000L), ((long)state.Available, (long)state.Reserved, (long)state.Withdrawn));
        Assert.Equal(Deposit - Available + 1_000_000, (long)state.Fees);
    }

    [Fact]
    public async Task Cancelling_a_queued_withdrawal_releases_it_and_a_failed_one_releases_too()
    {
        var merchant = await FundedMerchantAsync();
        var first = Spec(merchant, 10_000_000);
        var second = Spec(merchant, 5_000_000);
        await Cluster.Grains.GetGrain<IWithdrawalGrain>(first.Id).Create(first);
        await Cluster.Grains.GetGrain<IWithdrawalGrain>(second.Id).Create(second);

        Assert.Equal(WithdrawalStatus.Cancelled, (await Cluster.Grains.GetGrain<IWithdrawalGrain>(first.Id).Cancel()).Status);
        await Cluster.Grains.GetGrain<IWithdrawalGrain>(second.Id).StartProcessing("s-2");
        Assert.Equal(WithdrawalStatus.Failed, (await Cluster.Grains.GetGrain<IWithdrawalGrain>(second.Id).Fail("broadcast refused")).Status);
        await Assert.ThrowsAsync<InvalidWithdrawalTransitionException>(() => Cluster.Grains.GetGrain<IWithdrawalGrain>(second.Id).Cancel());
        await Cluster.RunDueWorkAsync();

        var state = await BalanceAsync(merchant);
        Assert.Equal((Available, 0L), ((long)state.Available, (long)state.Reserved));
        Assert.Empty(state.Reservations);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_request_that_died_before_its_reservation_was_recorded_is_finished_by_its_wake_reminder_once(bool balanceReservedAlready)
    {
        var merchant = await FundedMerchantAsync();
        var spec = Spec(merchant, 25_000_000);
        if (balanceReservedAlready)
        {
            // The silo died after the balance answered, before the withdrawal wrote the answer.
            var reserve = WithdrawalMovements.Reserve(spec.Key, merchant, Mode.Live, "USDT-TRON", spec.AmountUnits, spec.FeeUnits, spec.CreatedAt);
            Assert.Equal(ReservationOutcome.Reserved, await Cluster.Grains.GetGrain<IMerchantBalanceGrain>(spec.BalanceKey).Reserve(Posting(spec, reserve)));
        }

        // What the first write of Create left: the request, status reserving (its wake reminder was registered before it).
        var stored = new GrainState<GrainRecord<WithdrawalState>>(new GrainRecord<WithdrawalState>
        {
            State = new WithdrawalState { Spec = spec, Status = WithdrawalStatus.Reserving, UpdatedAt = spec.CreatedAt },
        });
        await Cluster.Storage.WriteStateAsync(WithdrawalProjection.StateName, GrainId.Create(GrainType.Create("withdrawal"), GrainIdKeyExtensions.CreateGuidKey(spec.Id)), stored);
        var grain = Cluster.Grains.GetGrain<IWithdrawalGrain>(spec.Id);
        Assert.Null(await grain.Get());

        await grain.Wake();
        await grain.Wake();

        var withdrawal = (await grain.Get())!;
        Assert.Equal(WithdrawalStatus.Queued, withdrawal.Status);
        Assert.Single(withdrawal.Movements);
        Assert.Equal(WithdrawalStatus.Queued, (await grain.Create(spec)).Withdrawal!.Status);
        var state = await BalanceAsync(merchant);
        Assert.Equal((Available - 26_000_000, 26_000_000L, 2L), ((long)state.Available, (long)state.Reserved, state.MovementCount));
    }
}
