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

    Task<MerchantBalanceState> Get();
}

/// <summary>
/// The balances of one merchant, mode and asset. Its senders are countless (every output's journal, every invoice), so
/// it recognises a repeated posting by the movement's id among its <see cref="RecentMovementWindow"/> latest, and a
/// repeated pending change by what it would change. Its changes interleave and share writes
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
        if (State.RecentMovementIds.Contains(movement.Id))
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
        State.MovementCount++;
        if (movement.Kind == LedgerMovementKind.DepositCredit)
        {
            State.PendingOutputs.Remove(movement.OutputKey);
        }

        State.RecentMovementIds.Add(movement.Id);
        if (State.RecentMovementIds.Count > RecentMovementWindow)
        {
            State.RecentMovementIds.RemoveRange(0, State.RecentMovementIds.Count - RecentMovementWindow);
        }

        return SaveTogetherAsync();
    }

    public Task<MerchantBalanceState> Get() => Task.FromResult(State);

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
