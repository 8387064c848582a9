using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Storage;

namespace CryptoPay.Grains.Ledger;

/// <summary>The <c>merchant_balances</c> and <c>ledger_outputs</c> tables: their grains' stored state with typed columns, one write each.</summary>
public static class LedgerProjections
{
    public const string BalancesTable = "merchant_balances";
    public const string OutputsTable = "ledger_outputs";
    public const string BalanceStateName = "merchant-balance";
    public const string OutputStateName = "ledger-output";

    public static TableProjection<GrainRecord<MerchantBalanceState>> Balances { get; } = new TableProjection<GrainRecord<MerchantBalanceState>>(BalanceStateName, BalancesTable)
        .Column("merchant_id", ColumnType.Uuid, r => r.State.MerchantId)
        .Column("mode", ColumnType.Text, r => LedgerKeys.ModeName(r.State.Mode))
        .Column("asset", ColumnType.Text, r => r.State.Asset)
        .Column("decimals", ColumnType.Integer, r => r.State.Decimals)
        .Column("available", ColumnType.Numeric, r => r.State.Available)
        .Column("pending", ColumnType.Numeric, r => r.State.Pending)
        .Column("deposited", ColumnType.Numeric, r => r.State.Deposited)
        .Column("fees", ColumnType.Numeric, r => r.State.Fees)
        .Column("withdrawn", ColumnType.Numeric, r => r.State.Withdrawn)
        .Column("reserved", ColumnType.Numeric, r => r.State.Reserved);

    public static TableProjection<GrainRecord<LedgerOutputState>> Outputs { get; } = new TableProjection<GrainRecord<LedgerOutputState>>(OutputStateName, OutputsTable)
        .Column("network", ColumnType.Text, r => r.State.Network)
        .Column("txid", ColumnType.Text, r => r.State.Txid)
        .Column("output_index", ColumnType.Integer, r => r.State.OutputIndex)
        .Column("merchant_id", ColumnType.Uuid, r => r.State.MerchantId)
        .Column("mode", ColumnType.Text, r => LedgerKeys.ModeName(r.State.Mode))
        .Column("asset", ColumnType.Text, r => r.State.Asset)
        .Column("credited", ColumnType.Boolean, r => r.State.Credited)
        .Column("gross_units", ColumnType.Numeric, r => r.State.GrossUnits)
        .Column("fee_units", ColumnType.Numeric, r => r.State.FeeUnits)
        .Column("movements", ColumnType.Integer, r => r.State.Movements.Count)
        .Column("first_credited_at", ColumnType.TimestampTz, r => r.State.FirstCreditedAt);

    /// <summary>The ledger's schema (source "ledger").</summary>
    public static IMigrationSource Migrations { get; } =
        new EmbeddedMigrations(typeof(LedgerProjections).Assembly, "ledger", "CryptoPay.Grains.Ledger.Migrations.");
}
