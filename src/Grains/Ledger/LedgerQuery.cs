using CryptoPay.Grains.Hosting;
using System.Text.Json;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Storage;
using Npgsql;
using CryptoPay.Grains.Settlements;
using CryptoPay.Grains.Withdrawals;
using NpgsqlTypes;
using Orleans;

namespace CryptoPay.Grains.Ledger;

/// <summary>Every balance and every output journal, read at one moment (for the invariant checker).</summary>
public sealed record LedgerSnapshot(
    IReadOnlyList<MerchantBalanceState> Balances,
    IReadOnlyList<LedgerOutputState> Outputs,
    IReadOnlyList<WithdrawalState>? Withdrawals = null,
    IReadOnlyList<SettlementState>? Settlements = null);

/// <summary>
/// A credited deposit's place in its balance's order: when it was first credited, then its output key
/// (<c>network:txid:index</c>, ordinal). Neither ever changes, so the order is stable and serves as a cursor.
/// </summary>
[GenerateSerializer]
[Alias("cryptopay.deposit-position")]
[Immutable]
public sealed record DepositPosition([property: Id(0)] DateTimeOffset CreditedAt, [property: Id(1)] string OutputKey);

/// <summary>Balances and journals served from the ledger tables, never by loading grains.</summary>
public interface ILedgerQuery
{
    /// <summary>The merchant's balances in one mode, ordered by asset.</summary>
    Task<IReadOnlyList<MerchantBalanceState>> BalancesAsync(Guid merchantId, Mode mode, CancellationToken ct);

    /// <summary>
    /// The outputs credited (now, not reversed) to one balance, in <see cref="DepositPosition"/> order, after
    /// <paramref name="after"/> (null: from the first) and first credited at or before <paramref name="until"/>; at most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<DepositPosition>> CreditedDepositsAsync(Guid merchantId, Mode mode, string asset, DepositPosition? after, DateTimeOffset until, int limit, CancellationToken ct);

    Task<LedgerSnapshot> SnapshotAsync(CancellationToken ct);
}

public static class LedgerQueries
{
    /// <summary>The query matching the projected storage the silo runs on.</summary>
    public static ILedgerQuery For(ProjectedGrainStorage storage) =>
        StoreQueries.For<ILedgerQuery>(storage, source => new PostgresLedgerQuery(source), memory => new MemoryLedgerQuery(memory));
}

public sealed class MemoryLedgerQuery(MemoryProjectedGrainStorage storage) : ILedgerQuery
{
    public Task<IReadOnlyList<MerchantBalanceState>> BalancesAsync(Guid merchantId, Mode mode, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<MerchantBalanceState>>([.. Rows<MerchantBalanceState>(LedgerProjections.BalancesTable).Where(b => b.MerchantId == merchantId && b.Mode == mode).OrderBy(b => b.Asset, StringComparer.Ordinal)]);

    public Task<IReadOnlyList<DepositPosition>> CreditedDepositsAsync(Guid merchantId, Mode mode, string asset, DepositPosition? after, DateTimeOffset until, int limit, CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<DepositPosition>>([.. Rows<LedgerOutputState>(LedgerProjections.OutputsTable)
            .Where(o => o.Credited && o.MerchantId == merchantId && o.Mode == mode && o.Asset == asset && o.FirstCreditedAt <= until)
            .Select(o => new DepositPosition(o.FirstCreditedAt!.Value, o.OutputKey))
            .Where(p => after is null || Compare(p, after) > 0)
            .Order(Comparer<DepositPosition>.Create(Compare))
            .Take(limit)]);

    public Task<LedgerSnapshot> SnapshotAsync(CancellationToken ct) =>
        Task.FromResult(new LedgerSnapshot([.. Rows<MerchantBalanceState>(LedgerProjections.BalancesTable)], [.. Rows<LedgerOutputState>(LedgerProjections.OutputsTable)],
            [.. Rows<WithdrawalState>(WithdrawalProjection.Table)], [.. Rows<SettlementState>(SettlementProjection.Table)]));

    private IEnumerable<T> Rows<T>(string table) where T : class, new() =>
        storage.Rows(table).Select(r => r.Read<GrainRecord<T>>().State).ToList();

    private static int Compare(DepositPosition? a, DepositPosition? b) =>
        a!.CreditedAt != b!.CreditedAt ? a.CreditedAt.CompareTo(b.CreditedAt) : string.CompareOrdinal(a.OutputKey, b.OutputKey);
}

public sealed class PostgresLedgerQuery(NpgsqlDataSource dataSource) : ILedgerQuery
{
    public async Task<IReadOnlyList<MerchantBalanceState>> BalancesAsync(Guid merchantId, Mode mode, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT state->'state' FROM merchant_balances WHERE merchant_id = @merchant_id AND mode = @mode ORDER BY asset");
        command.Parameters.Add(new NpgsqlParameter("merchant_id", NpgsqlDbType.Uuid) { Value = merchantId });
        command.Parameters.Add(new NpgsqlParameter("mode", NpgsqlDbType.Text) { Value = LedgerKeys.ModeName(mode) });
        return await ReadAsync<MerchantBalanceState>(command, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<DepositPosition>> CreditedDepositsAsync(Guid merchantId, Mode mode, string asset, DepositPosition? after, DateTimeOffset until, int limit, CancellationToken ct)
    {
        // grain_key in "C" collation: the same byte order as the memory store's ordinal one, and the index's.
        await using var command = dataSource.CreateCommand(
            "SELECT first_credited_at, grain_key FROM ledger_outputs " +
            "WHERE merchant_id = @merchant_id AND mode = @mode AND asset = @asset AND credited AND first_credited_at <= @until" +
            (after is null ? "" : " AND (first_credited_at, grain_key COLLATE \"C\") > (@after_at, @after_key)") +
            " ORDER BY first_credited_at, grain_key COLLATE \"C\" LIMIT @limit");
        command.Parameters.Add(new NpgsqlParameter("merchant_id", NpgsqlDbType.Uuid) { Value = merchantId });
        command.Parameters.Add(new NpgsqlParameter("mode", NpgsqlDbType.Text) { Value = LedgerKeys.ModeName(mode) });
        command.Parameters.Add(new NpgsqlParameter("asset", NpgsqlDbType.Text) { Value = asset });
        command.Parameters.Add(new NpgsqlParameter("until", NpgsqlDbType.TimestampTz) { Value = until.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter("limit", NpgsqlDbType.Integer) { Value = limit });
        if (after is not null)
        {
            command.Parameters.Add(new NpgsqlParameter("after_at", NpgsqlDbType.TimestampTz) { Value = after.CreditedAt.ToUniversalTime() });
            command.Parameters.Add(new NpgsqlParameter("after_key", NpgsqlDbType.Text) { Value = after.OutputKey });
        }

        var positions = new List<DepositPosition>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            positions.Add(new DepositPosition(reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1)));
        }

        return positions;
    }

    public async Task<LedgerSnapshot> SnapshotAsync(CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        // One repeatable-read snapshot, so balances and journals are seen at the same moment.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
        await using var balances = new NpgsqlCommand("SELECT state->'state' FROM merchant_balances", connection, transaction);
        await using var outputs = new NpgsqlCommand("SELECT state->'state' FROM ledger_outputs", connection, transaction);
        await using var withdrawals = new NpgsqlCommand("SELECT state->'state' FROM withdrawals", connection, transaction);
        await using var settlements = new NpgsqlCommand("SELECT state->'state' FROM settlements", connection, transaction);
        var snapshot = new LedgerSnapshot(
            await ReadAsync<MerchantBalanceState>(balances, ct).ConfigureAwait(false),
            await ReadAsync<LedgerOutputState>(outputs, ct).ConfigureAwait(false),
            await ReadAsync<WithdrawalState>(withdrawals, ct).ConfigureAwait(false),
            await ReadAsync<SettlementState>(settlements, ct).ConfigureAwait(false));
        await transaction.CommitAsync(ct).ConfigureAwait(false);
        return snapshot;
    }

    private static async Task<IReadOnlyList<T>> ReadAsync<T>(NpgsqlCommand command, CancellationToken ct)
    {
        var rows = new List<T>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            rows.Add(JsonSerializer.Deserialize<T>(reader.GetString(0), StateJson.Options)!);
        }

        return rows;
    }
}
