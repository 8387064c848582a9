using System.Text.Json;
using CryptoPay.Runtime.Serialization;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Postgres;

namespace CryptoPay.Grains.Ledger;

/// <summary>The <c>merchant_balances</c> and <c>ledger_outputs</c> tables, written in the same commit as their grains.</summary>
public static class LedgerProjections
{
    public const string BalancesTable = "merchant_balances";
    public const string OutputsTable = "ledger_outputs";

    /// <summary>Position of the <c>document</c> column in both projections; the memory query reads rows by it.</summary>
    public const int BalanceDocumentColumn = 9;
    public const int OutputDocumentColumn = 10;

    public static JsonSerializerOptions Json { get; } = GrainJson.CreateOptions();

    public static StateProjection<MerchantBalanceState> Balances { get; } = new StateProjection<MerchantBalanceState>(BalancesTable)
        .Column("merchant_id", ProjectionColumnType.Uuid, s => s.MerchantId)
        .Column("mode", ProjectionColumnType.Text, s => LedgerKeys.ModeName(s.Mode))
        .Column("asset", ProjectionColumnType.Text, s => s.Asset)
        .Column("decimals", ProjectionColumnType.Integer, s => s.Decimals)
        .Column("available", ProjectionColumnType.Numeric, s => s.Available)
        .Column("pending", ProjectionColumnType.Numeric, s => s.Pending)
        .Column("deposited", ProjectionColumnType.Numeric, s => s.Deposited)
        .Column("fees", ProjectionColumnType.Numeric, s => s.Fees)
        .Column("withdrawn", ProjectionColumnType.Numeric, s => s.Withdrawn)
        .Column("document", ProjectionColumnType.Jsonb, s => JsonSerializer.Serialize(s, Json));

    public static StateProjection<LedgerOutputState> Outputs { get; } = new StateProjection<LedgerOutputState>(OutputsTable)
        .Column("network", ProjectionColumnType.Text, s => s.Network)
        .Column("txid", ProjectionColumnType.Text, s => s.Txid)
        .Column("output_index", ProjectionColumnType.Integer, s => s.OutputIndex)
        .Column("merchant_id", ProjectionColumnType.Uuid, s => s.MerchantId)
        .Column("mode", ProjectionColumnType.Text, s => LedgerKeys.ModeName(s.Mode))
        .Column("asset", ProjectionColumnType.Text, s => s.Asset)
        .Column("credited", ProjectionColumnType.Boolean, s => s.Credited)
        .Column("gross_units", ProjectionColumnType.Numeric, s => s.GrossUnits)
        .Column("fee_units", ProjectionColumnType.Numeric, s => s.FeeUnits)
        .Column("movements", ProjectionColumnType.Integer, s => s.Movements.Count)
        .Column("document", ProjectionColumnType.Jsonb, s => JsonSerializer.Serialize(s, Json));

    /// <summary>The ledger's schema (source "ledger"), applied with the runtime's migrations.</summary>
    public static IMigrationSource Migrations { get; } =
        new EmbeddedMigrations(typeof(LedgerProjections).Assembly, "ledger", "CryptoPay.Grains.Ledger.Migrations.");
}
