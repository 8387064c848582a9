using System.Numerics;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using Orleans;

namespace CryptoPay.Grains.Withdrawals;

/// <summary>
/// Where a withdrawal stands. Merchants see <c>review → queued → processing → completed | failed | rejected</c>, and
/// <c>cancelled</c>; <see cref="Reserving"/> and <see cref="Refused"/> are the grain's own (a request being reserved, a
/// request refused for its balance) and are never listed.
/// </summary>
public enum WithdrawalStatus
{
    Reserving,
    Refused,
    Review,
    Queued,
    Processing,
    Completed,
    Failed,
    Rejected,
    Cancelled,
}

/// <summary>The state change asked for is not possible from the withdrawal's current status.</summary>
[GenerateSerializer]
[Alias("cryptopay.invalid-withdrawal-transition")]
public sealed class InvalidWithdrawalTransitionException(string message) : Exception(message);

/// <summary>What was asked for, fixed at request: exact units, the fee charged on top, the destination and whether it waits for review.</summary>
[GenerateSerializer]
[Alias("cryptopay.withdrawal-spec")]
public sealed record WithdrawalSpec
{
    [Id(0)]
    public Guid Id { get; init; }

    [Id(1)]
    public Guid MerchantId { get; init; }

    [Id(2)]
    public Mode Mode { get; init; }

    /// <summary>The asset's code on its network (<c>USDT</c>).</summary>
    [Id(3)]
    public string AssetCode { get; init; } = "";

    [Id(4)]
    public string Network { get; init; } = "";

    /// <summary>The asset as balances name it (<c>USDT-TRON</c>, <c>BTC</c>).</summary>
    [Id(5)]
    public string Asset { get; init; } = "";

    [Id(6)]
    public int Decimals { get; init; }

    /// <summary>What the recipient gets.</summary>
    [Id(7)]
    public BigInteger AmountUnits { get; init; }

    /// <summary>The network fee, charged on top of the amount.</summary>
    [Id(8)]
    public BigInteger FeeUnits { get; init; }

    /// <summary>The validated destination, normalised.</summary>
    [Id(9)]
    public string Address { get; init; } = "";

    [Id(10)]
    public Guid? BeneficiaryId { get; init; }

    [Id(11)]
    public string? Reference { get; init; }

    [Id(12)]
    public string? MetadataJson { get; init; }

    /// <summary>The amount's USD value at request (null: no fresh rate, so it waits for review).</summary>
    [Id(13)]
    public decimal? UsdValue { get; init; }

    [Id(14)]
    public bool NeedsReview { get; init; }

    [Id(15)]
    public string? RequestFingerprint { get; init; }

    [Id(16)]
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The deposits (ledger output keys, <c>network:txid:index</c>) an automatic settlement pays out; empty for a withdrawal asked for by hand.</summary>
    [Id(17)]
    public List<string> PaymentIds { get; init; } = [];

    public BigInteger TotalUnits => AmountUnits + FeeUnits;

    public string Key => WithdrawalIds.Key(Id);

    public string BalanceKey => LedgerKeys.Balance(MerchantId, Mode, Asset);
}

[GenerateSerializer]
[Alias("cryptopay.withdrawal-state")]
public sealed record WithdrawalState
{
    [Id(0)]
    public WithdrawalSpec? Spec { get; set; }

    [Id(1)]
    public WithdrawalStatus Status { get; set; }

    /// <summary>Why it was rejected or failed.</summary>
    [Id(2)]
    public string? Reason { get; set; }

    [Id(3)]
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Append-only journal: the reservation, then its release or its payout; never edited.</summary>
    [Id(4)]
    public List<LedgerMovement> Movements { get; set; } = [];

    /// <summary>Set by the settlement batch that pays it (phase 2).</summary>
    [Id(5)]
    public string? SettlementId { get; set; }

    [Id(6)]
    public string? Txid { get; set; }

    [Id(7)]
    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>A withdrawal the merchant sees: reserved, whatever happened since.</summary>
    public bool Exists => Spec is not null && Status is not (WithdrawalStatus.Reserving or WithdrawalStatus.Refused);

    /// <summary>Whether the balance holds this withdrawal's reservation when all is delivered.</summary>
    public bool HoldsReservation => Status is WithdrawalStatus.Review or WithdrawalStatus.Queued or WithdrawalStatus.Processing;
}

/// <summary>How ledger movements name a withdrawal.</summary>
public static class WithdrawalIds
{
    /// <summary>The withdrawal in ledger movements: <c>withdrawal:{id}</c>.</summary>
    public static string Key(Guid id) => $"withdrawal:{id:N}";
}
