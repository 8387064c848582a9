using System.Text.Json;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Storage;
using Npgsql;
using NpgsqlTypes;

namespace CryptoPay.Grains.Deposits;

/// <summary>Which of many addresses are deposit addresses of ours: served from the deposit_addresses table, never by loading grains.</summary>
public interface IDepositAddressDirectory
{
    /// <summary>The assignments among <paramref name="addresses"/> (any spelling; see <see cref="DepositAddressKeys"/>) on <paramref name="network"/>.</summary>
    Task<IReadOnlyList<DepositAddressState>> FindAsync(string network, IReadOnlyCollection<string> addresses, CancellationToken ct);
}

/// <summary>The <c>deposit_addresses</c> table and its schema (migration source "chains").</summary>
public static class DepositAddressProjection
{
    public const string Table = "deposit_addresses";
    public const string StateName = "deposit-address";

    public static TableProjection<DepositAddressState> Projection { get; } = new TableProjection<DepositAddressState>(StateName, Table)
        .Column("network", ColumnType.Text, s => s.Network)
        .Column("address", ColumnType.Text, s => s.Address)
        .Column("idx", ColumnType.BigInt, s => s.Index)
        .Column("invoice_id", ColumnType.Uuid, s => s.InvoiceId)
        .Column("merchant_id", ColumnType.Uuid, s => s.MerchantId)
        .Column("mode", ColumnType.Text, s => LedgerKeys.ModeName(s.Mode))
        .Column("method", ColumnType.Text, s => s.Method)
        .Column("assigned_at", ColumnType.TimestampTz, s => s.AssignedAt);

    /// <summary>The schema of deposit addresses (source "chains").</summary>
    public static IMigrationSource Migrations { get; } =
        new EmbeddedMigrations(typeof(DepositAddressProjection).Assembly, "chains", "CryptoPay.Grains.Deposits.Migrations.");
}

public static class DepositAddressDirectories
{
    public static IDepositAddressDirectory For(ProjectedGrainStorage storage) =>
        StoreQueries.For<IDepositAddressDirectory>(storage, source => new PostgresDepositAddressDirectory(source), memory => new MemoryDepositAddressDirectory(memory));
}

public sealed class MemoryDepositAddressDirectory(MemoryProjectedGrainStorage storage) : IDepositAddressDirectory
{
    public Task<IReadOnlyList<DepositAddressState>> FindAsync(string network, IReadOnlyCollection<string> addresses, CancellationToken ct)
    {
        var keys = addresses.Select(a => DepositAddressKeys.Of(network, a)).Distinct(StringComparer.Ordinal);
        return Task.FromResult<IReadOnlyList<DepositAddressState>>(
            [.. keys.Select(key => storage.Row(DepositAddressProjection.Table, key)).OfType<ProjectedRow>().Select(r => r.Read<DepositAddressState>())]);
    }
}

public sealed class PostgresDepositAddressDirectory(NpgsqlDataSource dataSource) : IDepositAddressDirectory
{
    public async Task<IReadOnlyList<DepositAddressState>> FindAsync(string network, IReadOnlyCollection<string> addresses, CancellationToken ct)
    {
        if (addresses.Count == 0)
        {
            return [];
        }

        var keys = addresses.Select(a => DepositAddressKeys.Of(network, a)).Distinct(StringComparer.Ordinal).ToArray();
        await using var command = dataSource.CreateCommand("SELECT state FROM deposit_addresses WHERE grain_key = ANY(@keys)");
        command.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = keys });
        var found = new List<DepositAddressState>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            found.Add(JsonSerializer.Deserialize<DepositAddressState>(reader.GetString(0), StateJson.Options)!);
        }

        return found;
    }
}
