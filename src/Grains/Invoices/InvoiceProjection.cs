using System.Text.Json;
using CryptoPay.Runtime.Serialization;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Postgres;

namespace CryptoPay.Grains.Invoices;

/// <summary>
/// The <c>invoices</c> table: one row of typed columns per invoice, written with its state, so lists are indexed
/// SQL. The invoice itself is not copied here: lists join its grain state (<see cref="GrainType"/>) by key.
/// </summary>
public static class InvoiceProjection
{
    public const string Table = "invoices";

    /// <summary>Column order of <see cref="Projection"/>; the memory query reads rows by these positions.</summary>
    public static readonly IReadOnlyList<string> ColumnNames =
        ["merchant_id", "mode", "status", "currency", "networks", "order_id", "customer_id", "amount", "reporting_currency", "amount_reporting", "created_at", "updated_at"];

    public static StateProjection<InvoiceState> Projection { get; } = new StateProjection<InvoiceState>(Table)
        .Column("merchant_id", ProjectionColumnType.Uuid, s => s.Spec.MerchantId)
        .Column("mode", ProjectionColumnType.Text, s => Name(s.Spec.Mode))
        .Column("status", ProjectionColumnType.Text, s => Name(s.Status))
        .Column("currency", ProjectionColumnType.Text, s => s.Spec.Currency)
        .Column("networks", ProjectionColumnType.Jsonb, s => JsonSerializer.Serialize(s.PaymentMethods.Select(m => m.Network).Distinct().ToArray()))
        .Column("order_id", ProjectionColumnType.Text, s => s.Spec.OrderId)
        .Column("customer_id", ProjectionColumnType.Text, s => s.Spec.CustomerId)
        .Column("amount", ProjectionColumnType.Numeric, s => s.Spec.Amount)
        .Column("reporting_currency", ProjectionColumnType.Text, s => s.Spec.ReportingCurrency)
        .Column("amount_reporting", ProjectionColumnType.Numeric, s => s.Spec.AmountReporting)
        .Column("created_at", ProjectionColumnType.TimestampTz, s => s.Spec.CreatedAt)
        .Column("updated_at", ProjectionColumnType.TimestampTz, s => s.UpdatedAt);

    /// <summary>The grain type whose state rows (<c>cp_grains</c>) hold the invoices the table indexes.</summary>
    public const string GrainType = "invoice";

    /// <summary>How invoice grain states are written, to read them back in lists.</summary>
    public static JsonSerializerOptions Json { get; } = GrainJson.CreateOptions();

    /// <summary>The schema of this project (source "grains"), applied with the runtime's migrations.</summary>
    public static IMigrationSource Migrations { get; } =
        new EmbeddedMigrations(typeof(InvoiceProjection).Assembly, "grains", "CryptoPay.Grains.Migrations.");

    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum =>
        JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());
}
