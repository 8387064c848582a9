using System.Text.Json;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Storage;

namespace CryptoPay.Grains.Invoices;

/// <summary>
/// The <c>invoices</c> table: each invoice grain's stored state and version, with typed columns for lists, written by
/// one statement (<see cref="ProjectedGrainStorage"/>), so lists are indexed SQL.
/// </summary>
public static class InvoiceProjection
{
    public const string Table = "invoices";

    /// <summary>The invoices whose stored webhook events and ledger changes may not be delivered yet, and when to retry them.</summary>
    public const string PendingEffectsTable = "invoice_pending_effects";

    /// <summary>The Orleans grain type of invoices.</summary>
    public const string GrainType = "invoice";

    /// <summary>The invoice grain's <c>[PersistentState]</c> name.</summary>
    public const string StateName = "invoice";

    public static TableProjection<GrainRecord<InvoiceState>> Projection { get; } = new TableProjection<GrainRecord<InvoiceState>>(StateName, Table)
        .StateAsJson()
        .PendingEffectsIn(PendingEffectsTable)
        .Column("merchant_id", ColumnType.Uuid, r => r.State.Spec.MerchantId)
        .Column("mode", ColumnType.Text, r => Name(r.State.Spec.Mode))
        .Column("status", ColumnType.Text, r => Name(r.State.Status))
        .Column("currency", ColumnType.Text, r => r.State.Spec.Currency)
        .Column("networks", ColumnType.Jsonb, r => JsonSerializer.Serialize(r.State.PaymentMethods.Select(m => m.Network).Distinct().ToArray()))
        .Column("order_id", ColumnType.Text, r => r.State.Spec.OrderId)
        .Column("customer_id", ColumnType.Text, r => r.State.Spec.CustomerId)
        .Column("amount", ColumnType.Numeric, r => r.State.Spec.Amount)
        .Column("reporting_currency", ColumnType.Text, r => r.State.Spec.ReportingCurrency)
        .Column("amount_reporting", ColumnType.Numeric, r => r.State.Spec.AmountReporting)
        .Column("created_at", ColumnType.TimestampTz, r => r.State.Spec.CreatedAt)
        .Column("updated_at", ColumnType.TimestampTz, r => r.State.UpdatedAt)
        .Column("expires_at", ColumnType.TimestampTz, r => r.State.Spec.ExpiresAt)
        .Column("wake_at", ColumnType.TimestampTz, r => r.WakeAt);

    /// <summary>The schema of this project (source "grains").</summary>
    public static IMigrationSource Migrations { get; } =
        new EmbeddedMigrations(typeof(InvoiceProjection).Assembly, "grains", "CryptoPay.Grains.Migrations.");

    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum =>
        Names<TEnum>.Of.TryGetValue(value, out var name) ? name : Convert(value);

    private static string Convert<TEnum>(TEnum value) where TEnum : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    /// <summary>Each value's snake_case name, made once per enum type instead of on every write.</summary>
    private static class Names<TEnum> where TEnum : struct, Enum
    {
        public static readonly IReadOnlyDictionary<TEnum, string> Of =
            Enum.GetValues<TEnum>().Distinct().ToDictionary(v => v, Convert);
    }
}
