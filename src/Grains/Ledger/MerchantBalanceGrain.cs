using System.Numerics;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace CryptoPay.Grains.Ledger;

/// <summary>A movement of one output's journal, posted to the balance of the merchant it concerns.</summary>
[GenerateSerializer]
[Alias("cryptopay.balance-posting")]
public sealed record BalancePosting([property: Id(0)] Guid MerchantId, [property: Id(1)] Mode Mode, [property: Id(2)] string Network, [property: Id(3)] string AssetCode, [property: Id(4)] LedgerMovement Movement);

[GenerateSerializer]
[Alias("cryptopay.merchant-balance-state")]
public sealed record MerchantBalanceState
{
    [Id(0)]
    public Guid MerchantId { get; set; }

    [Id(1)]
    public Mode Mode { get; set; }

    /// <summary>The asset as merchants see it: <c>BTC</c>, <c>USDT-TRON</c>.</summary>
    [Id(2)]
    public string Asset { get; set; } = "";

    [Id(3)]
    public string Network { get; set; } = "";

    [Id(4)]
    public int Decimals { get; set; }

    [Id(5)]
    public BigInteger Available { get; set; }

    /// <summary>Gross deposits credited, less those reversed.</summary>
    [Id(6)]
    public BigInteger Deposited { get; set; }

    [Id(7)]
    public BigInteger Fees { get; set; }

    [Id(8)]
    public BigInteger Withdrawn { get; set; }

    /// <summary>Detected but not yet confirmed outputs (not money of the merchant yet, so outside the double-entry ledger).</summary>
    [Id(9)]
    public Dictionary<string, BigInteger> PendingOutputs { get; set; } = [];

    [Id(10)]
    public long MovementCount { get; set; }

    /// <summary>Ids of the latest movements, oldest first, bounded: a second line of defence after the output grain and message de-duplication.</summary>
    [Id(11)]
    public List<string> RecentMovementIds { get; set; } = [];

    /// <summary>Held for withdrawals not yet paid or released (amount + fee of each): the sum of <see cref="Reservations"/>.</summary>
    [Id(12)]
    public BigInteger Reserved { get; set; }

    /// <summary>Open reservations by withdrawal key: bounded by the withdrawals waiting, not by history.</summary>
    [Id(13)]
    public Dictionary<string, BigInteger> Reservations { get; set; } = [];

    /// <summary>
    /// The ids of the outputs' postings applied here that their output may still post again: it posts first and writes
    /// its journal after, so until it says its journal holds the movement (<see cref="IMerchantBalanceGrain.Settle"/>)
    /// a dead activation's posting comes again, however many movements reach this balance meanwhile. Bounded by the
    /// postings under way, not by history; ids only, since every shared write carries them.
    /// </summary>
    [Id(14)]
    public HashSet<string> UnsettledMovementIds { get; set; } = [];

    public BigInteger Pending => PendingOutputs.Values.Aggregate(BigInteger.Zero, (s, v) => s + v);

    public bool Exists => Asset.Length > 0;
}

/// <summary>
/// The balances of one merchant, mode and asset. Credits and reversals go to the output's journal grain
/// (<see cref="ILedgerOutputGrain"/>), which alone decides whether an output is credited and posts each
/// movement here with <see cref="Apply"/>, so this grain keeps only totals and a bounded window of recent movement ids: it stays small for a merchant with
/// millions of deposits, whose journal lives in the ledger_outputs table (one row per output).
/// </summary>
[Alias("cryptopay.merchant-balance")]
public interface IMerchantBalanceGrain : IGrainWithStringKey
{
    /// <summary>
    /// Shows a detected, unconfirmed output as pending until it is credited or forgotten; shows a credited output that a
    /// reorganisation sent back to unconfirmed as pending again; drops a pending output that left the chain.
    /// </summary>
    [AlwaysInterleave]
    Task ShowPending(ShowPending effect);

    /// <summary>Posts a movement of an output's journal; sent only by <see cref="ILedgerOutputGrain"/>.</summary>
    [AlwaysInterleave]
    Task Apply(PostMovement effect);

    /// <summary>
    /// The output that posted <paramref name="movementId"/> has written it in its journal, so it never posts it again:
    /// the balance stops keeping the id for that (<see cref="MerchantBalanceState.UnsettledMovementIds"/>).
    /// </summary>
    [AlwaysInterleave]
    [OneWay]
    Task Settle(string movementId);

    /// <summary>
    /// Moves a withdrawal's amount and fee from available to reserved (<see cref="WithdrawalMovements.Reserve"/>), unless
    /// available is short (nothing changes) or the withdrawal reserved already (nothing changes; answered Reserved).
    /// Check and change happen in one step of this activation, so concurrent requests never overdraw.
    /// </summary>
    [AlwaysInterleave]
    Task<ReservationOutcome> Reserve(BalancePosting posting);

    /// <summary>Releases a withdrawal's open reservation with its compensating movement; a no-op when none is open.</summary>
    [AlwaysInterleave]
    Task Release(ReleaseReservation effect);

    /// <summary>Pays a withdrawal's open reservation out (amount withdrawn, fee to the operator); a no-op when none is open.</summary>
    [AlwaysInterleave]
    Task PayOut(PayOutReservation effect);

    Task<MerchantBalanceState> Get();
}

/// <summary>
/// The balances of one merchant, mode and asset. Its senders are countless (every output's journal, every invoice), so
/// instead of a number per sender it recognises a repeated posting by the movement's id: among those whose output has
/// not yet written them (<see cref="MerchantBalanceState.UnsettledMovementIds"/>), which are the only ones an output can
/// post again, and among its <see cref="RecentMovementWindow"/> latest; and a repeated pending change by what it
/// would change. Its changes interleave and share writes
/// (<see cref="EffectGrain{TState}.SaveTogetherAsync"/>): each change is made at once, in memory, and answered once the
/// write that carries it has succeeded.
/// </summary>
[GrainType("merchant-balance")]
public sealed class MerchantBalanceGrain(
    [PersistentState(LedgerProjections.BalanceStateName, ProjectedGrainStorage.Name)] IPersistentState<GrainRecord<MerchantBalanceState>> record,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<MerchantBalanceGrain> logger)
    : EffectGrain<MerchantBalanceState>(record, clock, logger), IMerchantBalanceGrain
{
    public const int RecentMovementWindow = 1024;

    public Task ShowPending(ShowPending effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        DeliveringEffect();
        var credit = effect.Credit;
        EnsureAddressedHere(credit);
        switch (effect.Change)
        {
            case PendingChange.Detect when !RecentlyCredited(credit.OutputKey):
            case PendingChange.Unconfirm:
                Initialize(credit.MerchantId, credit.Mode, credit.Network, credit.Asset);
                if (State.PendingOutputs.TryGetValue(credit.OutputKey, out var shown) && shown == credit.AmountUnits)
                {
                    return WhenWrittenAsync();
                }

                State.PendingOutputs[credit.OutputKey] = credit.AmountUnits;
                break;
            case PendingChange.Forget when State.PendingOutputs.Remove(credit.OutputKey):
                break;
            default:
                return WhenWrittenAsync();
        }

        return SaveTogetherAsync();
    }

    public Task Apply(PostMovement effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        DeliveringEffect();
        var posting = effect.Posting;
        var movement = posting.Movement;
        Initialize(posting.MerchantId, posting.Mode, posting.Network, posting.AssetCode);
        if (State.UnsettledMovementIds.Contains(movement.Id) || State.RecentMovementIds.Contains(movement.Id))
        {
            // Applied before; perhaps in a write still under way, which must succeed before the sender may forget it.
            return WhenWrittenAsync();
        }

        movement.EnsureBalanced();
        if (movement.Entries.Any(e => e.Asset != State.Asset))
        {
            throw new LedgerInvariantException("one asset per balance", $"movement {movement.Id} posts to {State.Asset} entries of another asset.");
        }

        var deposited = -movement.AmountOn(LedgerKeys.Deposits(State.Network));
        var fee = movement.AmountOn(LedgerKeys.OperatorFees);
        var available = movement.AmountOn(LedgerKeys.MerchantAvailable(State.MerchantId, State.Mode));
        if (deposited - fee != available)
        {
            throw new LedgerInvariantException("balance equals deposits - fees - withdrawals", $"movement {movement.Id} moves {available} to the merchant out of {deposited} deposited less {fee} fees.");
        }

        State.Available += available;
        State.Deposited += deposited;
        State.Fees += fee;
        if (movement.Kind == LedgerMovementKind.DepositCredit)
        {
            State.PendingOutputs.Remove(movement.OutputKey);
        }

        State.UnsettledMovementIds.Add(movement.Id);
        Remember(movement);
        return SaveTogetherAsync();
    }

    public Task Settle(string movementId)
    {
        // Carried by the next write; an id whose removal is never written is checked with its output on a later activation.
        State.UnsettledMovementIds.Remove(movementId);
        return Task.CompletedTask;
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (State.UnsettledMovementIds.Count > 0)
        {
            // In a turn of its own: the outputs asked may be waiting on this balance.
            this.RegisterGrainTimer(SettleLeftoversAsync, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan) { Interleave = true });
        }

        return base.OnActivateAsync(cancellationToken);
    }

    /// <summary>
    /// The ids an earlier activation kept (a settlement lost with it, or an output that died before writing its
    /// journal): those whose output's journal holds the movement are settled; the others stay, to be recognised when
    /// their output posts them again, as do those whose output could not be asked (checked again at the next activation).
    /// </summary>
    private async Task SettleLeftoversAsync()
    {
        var settled = false;
        // On this activation's scheduler: the loop's continuations are turns of this grain, one at a time.
        await Parallel.ForEachAsync(State.UnsettledMovementIds.ToList(), new ParallelOptions { MaxDegreeOfParallelism = EffectOutbox<GrainEffect>.MaxConcurrentReceivers, TaskScheduler = TaskScheduler.Current }, async (id, _) =>
        {
            try
            {
                if (await GrainFactory.GetGrain<ILedgerOutputGrain>(PostingOutput(id)).Holds(id))
                {
                    settled |= State.UnsettledMovementIds.Remove(id);
                }
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                logger.LogWarning(error, "Balance {Balance} could not ask the output of movement {Movement} whether it holds it; it keeps the id", this.GetPrimaryKeyString(), id);
            }
        });
        if (settled)
        {
            await SaveTogetherAsync();
        }
    }

    public Task<MerchantBalanceState> Get() => Task.FromResult(State);

    public async Task<ReservationOutcome> Reserve(BalancePosting posting)
    {
        ArgumentNullException.ThrowIfNull(posting);
        var movement = posting.Movement;
        Initialize(posting.MerchantId, posting.Mode, posting.Network, posting.AssetCode);
        var total = ReservationAmount(movement, LedgerMovementKind.WithdrawalReservation, available: -1, reserved: 1);
        if (State.Reservations.ContainsKey(movement.OutputKey))
        {
            await WhenWrittenAsync();
            return ReservationOutcome.Reserved;
        }

        if (State.RecentMovementIds.Contains(movement.Id))
        {
            // Reserved once and released or paid since: a late copy of the request must not reserve again.
            return ReservationOutcome.Closed;
        }

        if (State.Available < total)
        {
            return ReservationOutcome.InsufficientBalance;
        }

        State.Available -= total;
        State.Reserved += total;
        State.Reservations[movement.OutputKey] = total;
        Remember(movement);
        await SaveTogetherAsync();
        return ReservationOutcome.Reserved;
    }

    public Task Release(ReleaseReservation effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        DeliveringEffect();
        var movement = effect.Posting.Movement;
        var total = ReservationAmount(movement, LedgerMovementKind.WithdrawalRelease, available: 1, reserved: -1);
        if (!State.Reservations.TryGetValue(movement.OutputKey, out var held))
        {
            return WhenWrittenAsync();
        }

        if (held != total)
        {
            throw new LedgerInvariantException("a release compensates its reservation exactly", $"movement {movement.Id} releases {total} of a reservation of {held}.");
        }

        State.Reservations.Remove(movement.OutputKey);
        State.Reserved -= total;
        State.Available += total;
        Remember(movement);
        return SaveTogetherAsync();
    }

    public Task PayOut(PayOutReservation effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        DeliveringEffect();
        var movement = effect.Posting.Movement;
        CheckMovement(movement, LedgerMovementKind.WithdrawalPayout);
        var total = -movement.AmountOn(LedgerKeys.MerchantReserved(State.MerchantId, State.Mode));
        var paid = movement.AmountOn(LedgerKeys.Payouts(State.Network));
        var fee = movement.AmountOn(LedgerKeys.OperatorFees);
        if (!State.Reservations.TryGetValue(movement.OutputKey, out var held))
        {
            return WhenWrittenAsync();
        }

        if (held != total || paid.Sign <= 0 || fee.Sign < 0 || paid + fee != total)
        {
            throw new LedgerInvariantException("a payout spends its reservation exactly", $"movement {movement.Id} pays {paid} + {fee} fee out of a reservation of {held}.");
        }

        State.Reservations.Remove(movement.OutputKey);
        State.Reserved -= total;
        State.Withdrawn += paid;
        State.Fees += fee;
        Remember(movement);
        return SaveTogetherAsync();
    }

    /// <summary>The positive amount a reservation or release moves between available and reserved, checking its shape.</summary>
    private BigInteger ReservationAmount(LedgerMovement movement, LedgerMovementKind kind, int available, int reserved)
    {
        CheckMovement(movement, kind);
        var onAvailable = movement.AmountOn(LedgerKeys.MerchantAvailable(State.MerchantId, State.Mode));
        var onReserved = movement.AmountOn(LedgerKeys.MerchantReserved(State.MerchantId, State.Mode));
        var total = onReserved * reserved;
        if (total.Sign <= 0 || onAvailable * available != total || movement.Entries.Count != 2)
        {
            throw new LedgerInvariantException("a reservation moves available to reserved", $"movement {movement.Id} moves {onAvailable} on available and {onReserved} on reserved.");
        }

        return total;
    }

    private void CheckMovement(LedgerMovement movement, LedgerMovementKind kind)
    {
        if (!State.Exists)
        {
            throw new LedgerInvariantException("a withdrawal spends a balance", $"movement {movement.Id} reaches balance {this.GetPrimaryKeyString()}, which holds nothing.");
        }

        movement.EnsureBalanced();
        if (movement.Kind != kind || movement.Entries.Any(e => e.Asset != State.Asset))
        {
            throw new LedgerInvariantException("one asset per balance", $"movement {movement.Id} ({movement.Kind}) is not a {kind} of {State.Asset}.");
        }
    }

    private void Remember(LedgerMovement movement)
    {
        State.MovementCount++;
        State.RecentMovementIds.Add(movement.Id);
        if (State.RecentMovementIds.Count > RecentMovementWindow)
        {
            State.RecentMovementIds.RemoveRange(0, State.RecentMovementIds.Count - RecentMovementWindow);
        }
    }

    /// <summary>The output that posted a movement: its id is <c>{credit|reversal}:{output key}:{number}</c> (<see cref="LedgerOutputGrain"/>).</summary>
    private static string PostingOutput(string movementId) => movementId[(movementId.IndexOf(':') + 1)..movementId.LastIndexOf(':')];

    private bool RecentlyCredited(string outputKey)
    {
        var prefix = $"credit:{outputKey}:";
        var reversal = $"reversal:{outputKey}:";
        var last = State.RecentMovementIds.FindLast(id => id.StartsWith(prefix, StringComparison.Ordinal) || id.StartsWith(reversal, StringComparison.Ordinal));
        return last?.StartsWith(prefix, StringComparison.Ordinal) == true;
    }

    private void Initialize(Guid merchantId, Mode mode, string network, string assetCode)
    {
        if (State.Exists)
        {
            return;
        }

        State.MerchantId = merchantId;
        State.Mode = mode;
        State.Network = network;
        State.Asset = LedgerKeys.AssetLabel(assetCode, network);
        State.Decimals = LedgerKeys.DecimalsOf(assetCode, network);
        if (LedgerKeys.Balance(merchantId, mode, State.Asset) != this.GetPrimaryKeyString())
        {
            throw new ArgumentException($"Balance grain {this.GetPrimaryKeyString()} does not hold {State.Asset} of merchant {merchantId} ({LedgerKeys.ModeName(mode)}).");
        }
    }

    private void EnsureAddressedHere(DepositCredit credit)
    {
        if (credit.BalanceKey != this.GetPrimaryKeyString())
        {
            throw new ArgumentException($"Credit for balance {credit.BalanceKey} sent to balance grain {this.GetPrimaryKeyString()}.", nameof(credit));
        }
    }
}
