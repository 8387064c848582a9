using CryptoPay.Grains.Withdrawals;
using Orleans;

namespace CryptoPay.Grains.Webhooks;

/// <summary>The withdrawal event types of API.md: one per status a withdrawal enters (processing raises none).</summary>
public static class WithdrawalEventTypes
{
    public const string Review = "withdrawal.review";
    public const string Queued = "withdrawal.queued";
    public const string Rejected = "withdrawal.rejected";
    public const string Cancelled = "withdrawal.cancelled";
    public const string Completed = "withdrawal.completed";
    public const string Failed = "withdrawal.failed";

    public static IReadOnlyList<string> All { get; } = [Review, Queued, Rejected, Cancelled, Completed, Failed];

    /// <summary>The event of a withdrawal entering <paramref name="status"/>, or null.</summary>
    public static string? For(WithdrawalStatus status) => status switch
    {
        WithdrawalStatus.Review => Review,
        WithdrawalStatus.Queued => Queued,
        WithdrawalStatus.Rejected => Rejected,
        WithdrawalStatus.Cancelled => Cancelled,
        WithdrawalStatus.Completed => Completed,
        WithdrawalStatus.Failed => Failed,
        _ => null,
    };
}

/// <summary>The settlement event of API.md: a batch paying some of the merchant's withdrawals is final.</summary>
public static class SettlementEventTypes
{
    public const string Finalized = "settlement.finalized";

    public static IReadOnlyList<string> All { get; } = [Finalized];
}

/// <summary>A settlement event for one merchant: <c>data.object</c> is the batch as that merchant sees it (its own payouts).</summary>
[GenerateSerializer]
[Alias("cryptopay.settlement-event")]
public sealed record SettlementEvent([property: Id(0)] string Type, [property: Id(1)] long Created, [property: Id(2)] Guid MerchantId, [property: Id(3)] Merchants.Mode Mode, [property: Id(4)] Settlements.SettlementState Settlement);

/// <summary>The events of one withdrawal turn, in order, with the withdrawal as that turn left it.</summary>
[GenerateSerializer]
[Alias("cryptopay.withdrawal-event-batch")]
public sealed record WithdrawalEventBatch([property: Id(0)] IReadOnlyList<string> Types, [property: Id(1)] long Created, [property: Id(2)] WithdrawalState Withdrawal);
