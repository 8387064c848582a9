using System.Numerics;
using CryptoPay.Grains.Ledger;
using Orleans;

namespace CryptoPay.Grains.AutoSettlement;

/// <summary>Where and how often one balance is paid out: the destination was validated for the network when saved.</summary>
[GenerateSerializer]
[Alias("cryptopay.auto-settlement-setting")]
public sealed record AutoSettlementSetting
{
    /// <summary>The asset as balances name it (<c>LTC</c>, <c>USDT-ETH</c>).</summary>
    [Id(0)]
    public string Asset { get; init; } = "";

    /// <summary>The asset's code on its network (<c>USDT</c>).</summary>
    [Id(1)]
    public string AssetCode { get; init; } = "";

    [Id(2)]
    public string Network { get; init; } = "";

    /// <summary>Normalised; a beneficiary's address is copied here when the setting is saved.</summary>
    [Id(3)]
    public string Address { get; init; } = "";

    [Id(4)]
    public Guid? BeneficiaryId { get; init; }

    [Id(5)]
    public SettlementSchedule Schedule { get; init; }

    /// <summary>The merchant's own minimum payout (0: none); the asset's withdrawal minimum applies as well.</summary>
    [Id(6)]
    public BigInteger MinimumUnits { get; init; }

    [Id(7)]
    public int Decimals { get; init; }

    [Id(8)]
    public DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>
/// The payout of one window, decided and saved before it is requested, so that a retry after a crash requests exactly
/// this withdrawal again (same id, amount and payment ids), which the withdrawal grain answers as the one it created.
/// </summary>
[GenerateSerializer]
[Alias("cryptopay.auto-settlement-payout")]
public sealed record AutoSettlementPayout
{
    [Id(0)]
    public long Window { get; init; }

    [Id(1)]
    public SettlementSchedule Schedule { get; init; }

    [Id(2)]
    public Guid WithdrawalId { get; init; }

    [Id(3)]
    public string AssetCode { get; init; } = "";

    [Id(4)]
    public string Network { get; init; } = "";

    [Id(5)]
    public string Address { get; init; } = "";

    /// <summary>What the recipient gets: the available balance less the withdrawal fee.</summary>
    [Id(6)]
    public BigInteger AmountUnits { get; init; }

    [Id(7)]
    public int Decimals { get; init; }

    /// <summary>The deposits credited since the last payout, in <see cref="DepositPosition"/> order.</summary>
    [Id(8)]
    public List<string> PaymentIds { get; init; } = [];

    /// <summary>The last deposit listed: the cursor once the withdrawal exists (null: none listed, the cursor stays).</summary>
    [Id(9)]
    public DepositPosition? LastListed { get; init; }
}

public enum AutoSettlementOutcome
{
    /// <summary>A withdrawal was requested (queued, or in review above the USD threshold).</summary>
    Requested,

    /// <summary>The available balance did not reach the minimum payout plus the fee: nothing was requested.</summary>
    BelowMinimum,

    /// <summary>The withdrawal was refused (e.g. the balance dropped meanwhile, the asset's withdrawals were unconfigured); the deposits wait for the next window.</summary>
    Refused,
}

/// <summary>What a window did.</summary>
[GenerateSerializer]
[Alias("cryptopay.auto-settlement-run")]
public sealed record AutoSettlementRun
{
    [Id(0)]
    public long Window { get; init; }

    [Id(1)]
    public SettlementSchedule Schedule { get; init; }

    [Id(2)]
    public DateTimeOffset RanAt { get; init; }

    [Id(3)]
    public AutoSettlementOutcome Outcome { get; init; }

    [Id(4)]
    public Guid? WithdrawalId { get; init; }

    [Id(5)]
    public string? Reason { get; init; }
}

[GenerateSerializer]
[Alias("cryptopay.auto-settlement-state")]
public sealed record AutoSettlementState
{
    [Id(0)]
    public Guid MerchantId { get; set; }

    /// <summary>Null once the merchant deleted it (the cursor stays, so a new setting does not list settled deposits again).</summary>
    [Id(1)]
    public AutoSettlementSetting? Setting { get; set; }

    /// <summary>The newest window of <see cref="AutoSettlementSetting.Schedule"/> that ran (or closed before the setting was made).</summary>
    [Id(2)]
    public long LastWindow { get; set; }

    /// <summary>The last deposit a payout listed: the next payout lists those after it.</summary>
    [Id(3)]
    public DepositPosition? Cursor { get; set; }

    /// <summary>A window's payout decided but not yet known to be requested.</summary>
    [Id(4)]
    public AutoSettlementPayout? Pending { get; set; }

    [Id(5)]
    public AutoSettlementRun? LastRun { get; set; }

    [Id(6)]
    public DateTimeOffset CreatedAt { get; set; }
}
