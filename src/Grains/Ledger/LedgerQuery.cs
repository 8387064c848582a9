using CryptoPay.Grains.Hosting;
using System.Text.Json;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Storage;
using Npgsql;
using CryptoPay.Grains.Settlements;
using CryptoPay.Grains.Withdrawals;
using NpgsqlTypes;

namespace CryptoPay.Grains.Ledger;

/// <summary>Every balance and every output journal, read at one moment (for the invariant checker).</summary>
public sealed record LedgerSnapshot(
    IReadOnlyList<MerchantBalanceState> Balances,
    IReadOnlyList<LedgerOutputState> Outputs,
    IReadOnlyList<WithdrawalState>? Withdrawals = null,
    IReadOnlyList<SettlementState>? Settlements = null);

/// <summary>Balances and journals served from the ledger tables, never by loading grains.</summary>
public interface ILedgerQuery
{
    /// <summary>The merchant's balances in one mode, ordered by asset.</summary>
    Task<IReadOnlyList<MerchantBalanceState>> BalancesAsync(Guid merchantId, Mode mode, CancellationToken ct);

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

    public Task<LedgerSnapshot> SnapshotAsync(CancellationToken ct) =>
        Task.FromResult(new LedgerSnapshot([.. Rows<MerchantBalanceState>(LedgerProjections.BalancesTable)], [.. Rows<LedgerOutputState>(LedgerProjections.OutputsTable)],
            [.. Rows<WithdrawalState>(WithdrawalProjection.Table)], [.. Rows<SettlementState>(SettlementProjection.Table)]));

    private IEnumerable<T> Rows<T>(string table) where T : class, new() =>
        storage.Rows(table).Select(r => r.Read<GrainRecord<T>>().State).ToList();
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
