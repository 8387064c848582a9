using System.Numerics;
using CryptoPay.Grains.Merchants;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.Ledger;

/// <summary>A movement of one output's journal, posted to the balance of the merchant it concerns.</summary>
public sealed record BalancePosting(Guid MerchantId, Mode Mode, string Network, string AssetCode, LedgerMovement Movement);

public sealed record MerchantBalanceState
{
    public Guid MerchantId { get; set; }

    public Mode Mode { get; set; }

    /// <summary>The asset as merchants see it: <c>BTC</c>, <c>USDT-TRON</c>.</summary>
    public string Asset { get; set; } = "";

    public string Network { get; set; } = "";

    public int Decimals { get; set; }

    public BigInteger Available { get; set; }

    /// <summary>Gross deposits credited, less those reversed.</summary>
    public BigInteger Deposited { get; set; }

    public BigInteger Fees { get; set; }

    public BigInteger Withdrawn { get; set; }

    /// <summary>Detected but not yet confirmed outputs (not money of the merchant yet, so outside the double-entry ledger).</summary>
    public Dictionary<string, BigInteger> PendingOutputs { get; set; } = [];

    public long MovementCount { get; set; }

    /// <summary>Ids of the latest movements, oldest first, bounded: a second line of defence after the output grain and message de-duplication.</summary>
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
[GrainType("merchant-balance")]
public interface IMerchantBalanceGrain : IGrainWithStringKey
{
    /// <summary>Shows a detected, unconfirmed output as pending until it is credited or forgotten.</summary>
    Task Detect(DepositCredit credit);

    /// <summary>Shows a credited output that a reorganisation sent back to unconfirmed as pending again, whichever arrives first: this or its reversal.</summary>
    Task Unconfirm(DepositCredit credit);

    /// <summary>Drops a pending output that left the chain before it confirmed.</summary>
    Task Forget(DepositCredit credit);

    /// <summary>Posts a movement of an output's journal; sent only by <see cref="ILedgerOutputGrain"/>.</summary>
    Task Apply(BalancePosting posting);

    Task<MerchantBalanceState> Get();
}

public sealed class MerchantBalanceGrain : Grain<MerchantBalanceState>, IMerchantBalanceGrain
{
    public const int RecentMovementWindow = 1024;

    public Task Detect(DepositCredit credit)
    {
        EnsureAddressedHere(credit);
        Initialize(credit.MerchantId, credit.Mode, credit.Network, credit.Asset);
        if (!RecentlyCredited(credit.OutputKey))
        {
            State.PendingOutputs[credit.OutputKey] = credit.AmountUnits;
        }

        return Task.CompletedTask;
    }

    public Task Unconfirm(DepositCredit credit)
    {
        EnsureAddressedHere(credit);
        Initialize(credit.MerchantId, credit.Mode, credit.Network, credit.Asset);
        State.PendingOutputs[credit.OutputKey] = credit.AmountUnits;
        return Task.CompletedTask;
    }

    public Task Forget(DepositCredit credit)
    {
        EnsureAddressedHere(credit);
        State.PendingOutputs.Remove(credit.OutputKey);
        return Task.CompletedTask;
    }

    public Task Apply(BalancePosting posting)
    {
        var movement = posting.Movement;
        Initialize(posting.MerchantId, posting.Mode, posting.Network, posting.AssetCode);
        if (State.RecentMovementIds.Contains(movement.Id))
        {
            return Task.CompletedTask;
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

        return Task.CompletedTask;
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
        if (LedgerKeys.Balance(merchantId, mode, State.Asset) != GetPrimaryKeyString())
        {
            throw new ArgumentException($"Balance grain {GetPrimaryKeyString()} does not hold {State.Asset} of merchant {merchantId} ({LedgerKeys.ModeName(mode)}).");
        }
    }

    private void EnsureAddressedHere(DepositCredit credit)
    {
        if (credit.BalanceKey != GetPrimaryKeyString())
        {
            throw new ArgumentException($"Credit for balance {credit.BalanceKey} sent to balance grain {GetPrimaryKeyString()}.", nameof(credit));
        }
    }
}
