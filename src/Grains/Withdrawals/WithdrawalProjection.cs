using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Storage;

namespace CryptoPay.Grains.Withdrawals;

/// <summary>The <c>withdrawals</c> table (migration 0005): each withdrawal grain's state with typed columns for lists, one write.</summary>
public static class WithdrawalProjection
{
    public const string Table = "withdrawals";

    public const string StateName = "withdrawal";

    public static TableProjection<GrainRecord<WithdrawalState>> Projection { get; } = new TableProjection<GrainRecord<WithdrawalState>>(StateName, Table)
        .Column("merchant_id", ColumnType.Uuid, r => r.State.Spec?.MerchantId ?? Guid.Empty)
        .Column("mode", ColumnType.Text, r => LedgerKeys.ModeName(r.State.Spec?.Mode ?? default))
        .Column("status", ColumnType.Text, r => Name(r.State.Status))
        .Column("asset", ColumnType.Text, r => r.State.Spec?.Asset ?? "")
        .Column("network", ColumnType.Text, r => r.State.Spec?.Network ?? "")
        .Column("amount_units", ColumnType.Numeric, r => r.State.Spec?.AmountUnits ?? 0)
        .Column("created_at", ColumnType.TimestampTz, r => r.State.Spec?.CreatedAt ?? DateTimeOffset.UnixEpoch)
        .Column("updated_at", ColumnType.TimestampTz, r => r.State.UpdatedAt);

    public static string Name(WithdrawalStatus status) => InvoiceProjection.Name(status);

    /// <summary>The statuses merchants and operators see (not the grain's own reserving and refused).</summary>
    public static IReadOnlyList<WithdrawalStatus> Listed { get; } =
        [.. Enum.GetValues<WithdrawalStatus>().Where(s => s is not (WithdrawalStatus.Reserving or WithdrawalStatus.Refused))];
}
