using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Idempotency;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Storage;
using CryptoPay.Grains.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Withdrawals;

/// <summary>The withdrawal, or (<see cref="Refusal"/>) why there is none.</summary>
[GenerateSerializer]
[Alias("cryptopay.withdrawal-result")]
public sealed record WithdrawalResult([property: Id(0)] WithdrawalState? Withdrawal, [property: Id(1)] ReservationOutcome? Refusal);

/// <summary>One withdrawal: its reservation, review, cancellation and (phase 2) payout, each moving money once.</summary>
[Alias("cryptopay.withdrawal")]
public interface IWithdrawalGrain : IGrainWithGuidKey, IWakeable
{
    /// <summary>
    /// Reserves amount + fee on the merchant's balance and opens the withdrawal in review or queued; refused (nothing
    /// created) when the balance is short. A repeat of the same request answers the withdrawal it created.
    /// </summary>
    Task<WithdrawalResult> Create(WithdrawalSpec spec);

    Task<WithdrawalState?> Get();

    /// <summary>Operator: review → queued.</summary>
    Task<WithdrawalState> Approve();

    /// <summary>Operator: review or queued → rejected; the reservation is released.</summary>
    Task<WithdrawalState> Reject(string reason);

    /// <summary>Merchant: review or queued → cancelled; the reservation is released.</summary>
    Task<WithdrawalState> Cancel();

    /// <summary>Settlement (phase 2): queued → processing, in the named batch.</summary>
    Task<WithdrawalState> StartProcessing(string settlementId);

    /// <summary>Settlement (phase 2): processing → completed; the reservation is paid out (amount withdrawn, fee to the operator).</summary>
    Task<WithdrawalState> Complete(string txid);

    /// <summary>Settlement (phase 2): queued or processing → failed; the reservation is released.</summary>
    Task<WithdrawalState> Fail(string reason);

    /// <summary>
    /// Operator, on a network paid by hand (TRON, or one without a payout wallet): queued → completed with the txid of the
    /// transfer the operator made; a repeat with the same txid answers the same withdrawal.
    /// </summary>
    Task<WithdrawalState> RecordManualPayout(string txid);
}

[GrainType("withdrawal")]
public sealed class WithdrawalGrain(
    [PersistentState(WithdrawalProjection.StateName, ProjectedGrainStorage.Name)] IPersistentState<GrainRecord<WithdrawalState>> record,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<WithdrawalGrain> logger)
    : EffectGrain<WithdrawalState>(record, clock, logger), IWithdrawalGrain
{
    /// <summary>A request that died between its first write and its reservation is finished by the wake reminder after this.</summary>
    public static readonly TimeSpan ReservingTimeout = TimeSpan.FromMinutes(1);

    /// <summary>The settlement id of a withdrawal the operator paid by hand (<see cref="RecordManualPayout"/>): no batch, no proof.</summary>
    public const string ManualSettlement = "manual";

    protected override DateTimeOffset? DueAt =>
        State.Status == WithdrawalStatus.Reserving && State.Spec is { } spec ? spec.CreatedAt + ReservingTimeout : null;

    public async Task<WithdrawalResult> Create(WithdrawalSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Id != this.GetPrimaryKey() || spec.AmountUnits.Sign <= 0 || spec.FeeUnits.Sign < 0)
        {
            throw new ArgumentException($"Withdrawal {this.GetPrimaryKey()} cannot take spec {spec.Id} for {spec.AmountUnits} + {spec.FeeUnits}.", nameof(spec));
        }

        if (State.Spec is { } existing)
        {
            if (existing.RequestFingerprint != spec.RequestFingerprint)
            {
                throw new IdempotencyKeyReusedException($"Withdrawal {existing.Id} was requested by another request with this Idempotency-Key.");
            }
        }
        else
        {
            // Written before the reservation, so a crash after it leaves a grain that finishes it (DueAt) rather than money held for nothing.
            State = new WithdrawalState { Spec = spec, Status = WithdrawalStatus.Reserving, UpdatedAt = Now };
            await SaveAsync();
        }

        if (State.Status == WithdrawalStatus.Reserving)
        {
            await ReserveAsync();
        }

        return State.Status == WithdrawalStatus.Refused
            ? new WithdrawalResult(null, ReservationOutcome.InsufficientBalance)
            : new WithdrawalResult(State, null);
    }

    public Task<WithdrawalState?> Get() => Task.FromResult(State.Exists ? State : null);

    public Task<WithdrawalState> Approve() =>
        MoveAsync(WithdrawalStatus.Queued, [WithdrawalStatus.Review], "approved", release: false);

    public Task<WithdrawalState> Reject(string reason) =>
        MoveAsync(WithdrawalStatus.Rejected, [WithdrawalStatus.Review, WithdrawalStatus.Queued], "rejected", release: true, reason);

    public Task<WithdrawalState> Cancel() =>
        MoveAsync(WithdrawalStatus.Cancelled, [WithdrawalStatus.Review, WithdrawalStatus.Queued], "cancelled", release: true);

    public async Task<WithdrawalState> StartProcessing(string settlementId)
    {
        ArgumentException.ThrowIfNullOrEmpty(settlementId);
        if (State.Status == WithdrawalStatus.Processing && State.SettlementId == settlementId)
        {
            return State;
        }

        Expect([WithdrawalStatus.Queued], "processed");
        State.SettlementId = settlementId;
        return await MoveAsync(WithdrawalStatus.Processing, [WithdrawalStatus.Queued], "processed", release: false);
    }

    public async Task<WithdrawalState> Complete(string txid)
    {
        ArgumentException.ThrowIfNullOrEmpty(txid);
        if (State.Status == WithdrawalStatus.Completed)
        {
            return State;
        }

        Expect([WithdrawalStatus.Processing], "completed");
        var spec = State.Spec!;
        var payout = WithdrawalMovements.PayOut(spec.Key, spec.MerchantId, spec.Mode, spec.Network, spec.Asset, spec.AmountUnits, spec.FeeUnits, Now);
        State.Movements.Add(payout);
        Send(new PayOutReservation(spec.BalanceKey, Posting(payout)));
        State.Txid = txid;
        State.CompletedAt = Now;
        return await MoveAsync(WithdrawalStatus.Completed, [WithdrawalStatus.Processing], "completed", release: false);
    }

    public async Task<WithdrawalState> RecordManualPayout(string txid)
    {
        ArgumentException.ThrowIfNullOrEmpty(txid);
        if (State.Status == WithdrawalStatus.Completed && State.SettlementId == ManualSettlement && State.Txid == txid)
        {
            return State;
        }

        Expect([WithdrawalStatus.Queued], "recorded as paid by hand");
        State.SettlementId = ManualSettlement;
        State.Status = WithdrawalStatus.Processing;
        return await Complete(txid);
    }

    public Task<WithdrawalState> Fail(string reason) =>
        MoveAsync(WithdrawalStatus.Failed, [WithdrawalStatus.Queued, WithdrawalStatus.Processing], "failed", release: true, reason);

    protected override async Task OnWakeAsync()
    {
        if (State.Status == WithdrawalStatus.Reserving)
        {
            await ReserveAsync();
        }
    }

    /// <summary>Asks the balance to reserve (a repeat is answered as the first was), then records the answer and its events.</summary>
    private async Task ReserveAsync()
    {
        var spec = State.Spec!;
        var reserve = WithdrawalMovements.Reserve(spec.Key, spec.MerchantId, spec.Mode, spec.Asset, spec.AmountUnits, spec.FeeUnits, spec.CreatedAt);
        var outcome = await GrainFactory.GetGrain<IMerchantBalanceGrain>(spec.BalanceKey).Reserve(Posting(reserve));
        var before = State.Status;
        if (outcome == ReservationOutcome.Reserved)
        {
            State.Movements.Add(reserve);
            State.Status = spec.NeedsReview ? WithdrawalStatus.Review : WithdrawalStatus.Queued;
        }
        else
        {
            State.Status = WithdrawalStatus.Refused;
        }

        State.UpdatedAt = Now;
        Publish(before);
        await SaveAsync();
    }

    private async Task<WithdrawalState> MoveAsync(WithdrawalStatus to, WithdrawalStatus[] from, string verb, bool release, string? reason = null)
    {
        if (State.Status == to && State.Exists)
        {
            return State;
        }

        Expect(from, verb);
        var before = State.Status;
        if (release)
        {
            var released = WithdrawalMovements.Release(State.Movements.Single(m => m.Kind == LedgerMovementKind.WithdrawalReservation), Now);
            State.Movements.Add(released);
            Send(new ReleaseReservation(State.Spec!.BalanceKey, Posting(released)));
        }

        State.Status = to;
        State.Reason = reason ?? State.Reason;
        State.UpdatedAt = Now;
        Publish(before);
        await SaveAsync();
        return State;
    }

    private void Expect(WithdrawalStatus[] from, string verb)
    {
        if (!State.Exists)
        {
            throw new InvalidWithdrawalTransitionException("No such withdrawal.");
        }

        if (!from.Contains(State.Status))
        {
            throw new InvalidWithdrawalTransitionException(
                $"A withdrawal can be {verb} only while {string.Join(" or ", from.Select(WithdrawalProjection.Name))}; it is {WithdrawalProjection.Name(State.Status)}.");
        }
    }

    private BalancePosting Posting(LedgerMovement movement)
    {
        var spec = State.Spec!;
        return new BalancePosting(spec.MerchantId, spec.Mode, spec.Network, spec.AssetCode, movement);
    }

    /// <summary>The webhook event of this change, written with it (so it exists iff the change does); the effect's id gives the event its id.</summary>
    private void Publish(WithdrawalStatus before)
    {
        if (before == State.Status || WithdrawalEventTypes.For(State.Status) is not { } type)
        {
            return;
        }

        var spec = State.Spec!;
        Send(new PublishWithdrawalEvents(WebhookEndpointsGrain.KeyFor(spec.MerchantId, spec.Mode),
            new WithdrawalEventBatch([type], Now.ToUnixTimeSeconds(), StateJson.Clone(State))));
    }
}
