using System.Numerics;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Storage;
using CryptoPay.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Ledger;

[GenerateSerializer]
[Alias("cryptopay.ledger-output-state")]
public sealed record LedgerOutputState
{
    [Id(0)]
    public string OutputKey { get; set; } = "";

    [Id(1)]
    public string Network { get; set; } = "";

    [Id(2)]
    public string Txid { get; set; } = "";

    [Id(3)]
    public int OutputIndex { get; set; }

    [Id(4)]
    public Guid MerchantId { get; set; }

    [Id(5)]
    public Mode Mode { get; set; }

    /// <summary>The asset as merchants see it (<c>USDT-TRON</c>); entries are in this asset.</summary>
    [Id(6)]
    public string Asset { get; set; } = "";

    /// <summary>The asset's code on its network (<c>USDT</c>).</summary>
    [Id(7)]
    public string AssetCode { get; set; } = "";

    [Id(8)]
    public Guid InvoiceId { get; set; }

    [Id(9)]
    public BigInteger GrossUnits { get; set; }

    /// <summary>True while the latest movement is a credit (not reversed).</summary>
    [Id(10)]
    public bool Credited { get; set; }

    /// <summary>Append-only: credits and their compensating reversals, alternating, never edited.</summary>
    [Id(11)]
    public List<LedgerMovement> Movements { get; set; } = [];

    public bool Exists => OutputKey.Length > 0;

    public BigInteger FeeUnits => Credited ? Movements[^1].AmountOn(LedgerKeys.OperatorFees) : BigInteger.Zero;

    /// <summary>When the output was first credited: never changes (a reversal and a new credit keep it), so deposits listed in this order stay in it.</summary>
    public DateTimeOffset? FirstCreditedAt => Movements.Count > 0 ? Movements[0].At : null;
}

/// <summary>
/// The journal of one on-chain output, keyed by (network, txid, output or log index). Being one grain,
/// it is serial cluster-wide, so it alone decides whether the output is credited: exactly once,
/// whichever silo or redelivered message asks.
/// </summary>
[Alias("cryptopay.ledger-output")]
public interface ILedgerOutputGrain : IGrainWithStringKey, IWakeable
{
    /// <summary>Credits the output to its merchant unless it is credited already (then a no-op).</summary>
    Task Credit(CreditOutput effect);

    /// <summary>Reverses the current credit with a compensating movement (a reorganised-away deposit); a no-op when not credited.</summary>
    Task Reverse(ReverseOutput effect);

    Task<LedgerOutputState> Get();

    /// <summary>Whether the journal as written holds the movement, so that this output never posts it again.</summary>
    Task<bool> Holds(string movementId);
}

[GrainType("ledger-output")]
public sealed class LedgerOutputGrain(
    [PersistentState(LedgerProjections.OutputStateName, ProjectedGrainStorage.Name)] IPersistentState<GrainRecord<LedgerOutputState>> record,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<LedgerOutputGrain> logger,
    LedgerOptions? options = null,
    GatewayMetrics? metrics = null)
    : EffectGrain<LedgerOutputState>(record, clock, logger), ILedgerOutputGrain
{
    public async Task Credit(CreditOutput effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        var credit = effect.Credit;
        if (credit.OutputKey != this.GetPrimaryKeyString())
        {
            throw new ArgumentException($"Credit for output {credit.OutputKey} sent to output grain {this.GetPrimaryKeyString()}.", nameof(effect));
        }

        if (credit.AmountUnits.Sign <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(effect), credit.AmountUnits, "A deposit credit must be positive.");
        }

        if (State.Exists && (State.MerchantId != credit.MerchantId || State.Mode != credit.Mode || State.GrossUnits != credit.AmountUnits))
        {
            throw new LedgerInvariantException("one output, one owner", $"output {State.OutputKey} was credited {State.GrossUnits} to {State.MerchantId}; now {credit.AmountUnits} to {credit.MerchantId}.");
        }

        if (!await AcceptAsync(effect) || State.Credited)
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

        State.Credited = true;
        await PostAsync(new LedgerMovement($"credit:{State.OutputKey}:{State.Movements.Count / 2 + 1}", LedgerMovementKind.DepositCredit, State.OutputKey, Now, entries));
        metrics?.DepositCredited(State.Network, State.Mode);
    }

    public async Task Reverse(ReverseOutput effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        if (!await AcceptAsync(effect) || !State.Credited)
        {
            return;
        }

        var credit = State.Movements[^1];
        var compensating = credit.Entries.Select(e => e with { Amount = -e.Amount }).ToList();
        State.Credited = false;
        await PostAsync(new LedgerMovement($"reversal:{State.OutputKey}:{State.Movements.Count / 2 + 1}", LedgerMovementKind.DepositReversal, State.OutputKey, Now, compensating));
    }

    public Task<LedgerOutputState> Get() => Task.FromResult(State);

    // Calls are not interleaved: a movement appended by a call under way is written (or dropped with a reload) before this runs.
    public Task<bool> Holds(string movementId) => Task.FromResult(Stored && State.Movements.Exists(m => m.Id == movementId));

    /// <summary>
    /// Appends the movement, posts it to the merchant's balance, then writes the journal once
    /// (<see cref="EffectGrain{TState}.DeliverThenSaveAsync"/>). The movement's id is deterministic (output and credit
    /// number), so if this activation dies or its write fails after posting, the invoice's resent credit makes the same
    /// movement and the balance recognises its id, which it keeps until the journal is written and this output settles it.
    /// </summary>
    private async Task PostAsync(LedgerMovement movement)
    {
        movement.EnsureBalanced();
        State.Movements.Add(movement);
        var balance = LedgerKeys.Balance(State.MerchantId, State.Mode, State.Asset);
        await DeliverThenSaveAsync(new PostMovement(balance, new BalancePosting(State.MerchantId, State.Mode, State.Network, State.AssetCode, movement)));
        await GrainFactory.GetGrain<IMerchantBalanceGrain>(balance).Settle(movement.Id);
    }
}
