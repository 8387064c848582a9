using System.Numerics;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Telemetry;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.Ledger;

public sealed record LedgerOutputState
{
    public string OutputKey { get; set; } = "";

    public string Network { get; set; } = "";

    public string Txid { get; set; } = "";

    public int OutputIndex { get; set; }

    public Guid MerchantId { get; set; }

    public Mode Mode { get; set; }

    /// <summary>The asset as merchants see it (<c>USDT-TRON</c>); entries are in this asset.</summary>
    public string Asset { get; set; } = "";

    /// <summary>The asset's code on its network (<c>USDT</c>).</summary>
    public string AssetCode { get; set; } = "";

    public Guid InvoiceId { get; set; }

    public BigInteger GrossUnits { get; set; }

    /// <summary>True while the latest movement is a credit (not reversed).</summary>
    public bool Credited { get; set; }

    /// <summary>Append-only: credits and their compensating reversals, alternating, never edited.</summary>
    public List<LedgerMovement> Movements { get; set; } = [];

    public bool Exists => OutputKey.Length > 0;

    public BigInteger FeeUnits => Credited ? Movements[^1].AmountOn(LedgerKeys.OperatorFees) : BigInteger.Zero;
}

/// <summary>
/// The journal of one on-chain output, keyed by (network, txid, output or log index). Being one grain,
/// it is serial cluster-wide, so it alone decides whether the output is credited: exactly once,
/// whichever silo or redelivered message asks.
/// </summary>
[GrainType("ledger-output")]
public interface ILedgerOutputGrain : IGrainWithStringKey
{
    /// <summary>Credits the output to its merchant unless it is credited already (then a no-op).</summary>
    Task Credit(DepositCredit credit);

    /// <summary>Reverses the current credit with a compensating movement (a reorganised-away deposit); a no-op when not credited.</summary>
    Task Reverse();

    Task<LedgerOutputState> Get();
}

public sealed class LedgerOutputGrain(LedgerOptions? options = null, GatewayMetrics? metrics = null) : Grain<LedgerOutputState>, ILedgerOutputGrain
{
    public async Task Credit(DepositCredit credit)
    {
        if (credit.OutputKey != GetPrimaryKeyString())
        {
            throw new ArgumentException($"Credit for output {credit.OutputKey} sent to output grain {GetPrimaryKeyString()}.", nameof(credit));
        }

        if (credit.AmountUnits.Sign <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(credit), credit.AmountUnits, "A deposit credit must be positive.");
        }

        if (State.Exists && (State.MerchantId != credit.MerchantId || State.Mode != credit.Mode || State.GrossUnits != credit.AmountUnits))
        {
            throw new LedgerInvariantException("one output, one owner", $"output {State.OutputKey} was credited {State.GrossUnits} to {State.MerchantId}; now {credit.AmountUnits} to {credit.MerchantId}.");
        }

        if (State.Credited)
        {
            return;
        }

        if (!State.Exists)
        {
            State = new LedgerOutputState
            {
                OutputKey = credit.OutputKey,
                Network = credit.Network,
                Txid = credit.Txid.ToLowerInvariant(),
                OutputIndex = credit.OutputIndex,
                MerchantId = credit.MerchantId,
                Mode = credit.Mode,
                Asset = LedgerKeys.AssetLabel(credit.Asset, credit.Network),
                AssetCode = credit.Asset.ToUpperInvariant(),
                InvoiceId = credit.InvoiceId,
                GrossUnits = credit.AmountUnits,
            };
        }

        var fee = (options ?? new LedgerOptions()).FeeOf(credit.AmountUnits);
        List<LedgerEntry> entries =
        [
            new(LedgerKeys.Deposits(State.Network), State.Asset, -credit.AmountUnits),
            new(LedgerKeys.MerchantAvailable(State.MerchantId, State.Mode), State.Asset, credit.AmountUnits - fee),
        ];
        if (!fee.IsZero)
        {
            entries.Add(new LedgerEntry(LedgerKeys.OperatorFees, State.Asset, fee));
        }

        await Record(new LedgerMovement($"credit:{State.OutputKey}:{State.Movements.Count / 2 + 1}", LedgerMovementKind.DepositCredit, State.OutputKey, Now, entries));
        State.Credited = true;
        metrics?.DepositCredited(State.Network, State.Mode);
    }

    public async Task Reverse()
    {
        if (!State.Credited)
        {
            return;
        }

        var credit = State.Movements[^1];
        var compensating = credit.Entries.Select(e => e with { Amount = -e.Amount }).ToList();
        await Record(new LedgerMovement($"reversal:{State.OutputKey}:{State.Movements.Count / 2 + 1}", LedgerMovementKind.DepositReversal, State.OutputKey, Now, compensating));
        State.Credited = false;
    }

    public Task<LedgerOutputState> Get() => Task.FromResult(State);

    /// <summary>Appends the movement and tells the merchant's balance in the same commit: both happen or neither.</summary>
    private async Task Record(LedgerMovement movement)
    {
        movement.EnsureBalanced();
        State.Movements.Add(movement);
        await Send<IMerchantBalanceGrain>(LedgerKeys.Balance(State.MerchantId, State.Mode, State.Asset))
            .Apply(new BalancePosting(State.MerchantId, State.Mode, State.Network, State.AssetCode, movement));
    }
}
