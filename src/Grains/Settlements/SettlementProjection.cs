using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Storage;

namespace CryptoPay.Grains.Settlements;

/// <summary>The <c>settlements</c> table (grains migration 0007): each batch grain's state with typed columns, one write.</summary>
public static class SettlementProjection
{
    public const string Table = "settlements";

    public const string StateName = "settlement";

    public static TableProjection<GrainRecord<SettlementState>> Projection { get; } = new TableProjection<GrainRecord<SettlementState>>(StateName, Table)
        .Column("network", ColumnType.Text, r => r.State.Network)
        .Column("sequence", ColumnType.BigInt, r => r.State.Sequence)
        .Column("status", ColumnType.Text, r => Name(r.State.Status))
        .Column("created_at", ColumnType.TimestampTz, r => r.State.CreatedAt)
        .Column("updated_at", ColumnType.TimestampTz, r => r.State.UpdatedAt);

    /// <summary>The status merchants see: claiming and signed are <c>open</c>.</summary>
    public static string Name(SettlementStatus status) => status switch
    {
        SettlementStatus.Claiming or SettlementStatus.Signed => "open",
        _ => InvoiceProjection.Name(status),
    };
}
