using System.Text.Json;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Ledger;
using CryptoPay.Runtime.Serialization;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Memory;
using CryptoPay.Runtime.Storage.Postgres;
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
    public const int DocumentColumn = 8;

    public static JsonSerializerOptions Json { get; } = GrainJson.CreateOptions();

    public static StateProjection<DepositAddressState> Projection { get; } = new StateProjection<DepositAddressState>(Table)
        .Column("network", ProjectionColumnType.Text, s => s.Network)
        .Column("address", ProjectionColumnType.Text, s => s.Address)
        .Column("idx", ProjectionColumnType.BigInt, s => s.Index)
        .Column("invoice_id", ProjectionColumnType.Uuid, s => s.InvoiceId)
        .Column("merchant_id", ProjectionColumnType.Uuid, s => s.MerchantId)
        .Column("mode", ProjectionColumnType.Text, s => LedgerKeys.ModeName(s.Mode))
        .Column("method", ProjectionColumnType.Text, s => s.Method)
        .Column("assigned_at", ProjectionColumnType.TimestampTz, s => s.AssignedAt)
        .Column("document", ProjectionColumnType.Jsonb, s => JsonSerializer.Serialize(s, Json));

    public static IMigrationSource Migrations { get; } =
        new EmbeddedMigrations(typeof(DepositAddressProjection).Assembly, "chains", "CryptoPay.Grains.Deposits.Migrations.");
}

public static class DepositAddressDirectories
{
    public static IDepositAddressDirectory For(IGrainStore store) =>
        StoreQueries.For<IDepositAddressDirectory>(store, source => new PostgresDepositAddressDirectory(source), memory => new MemoryDepositAddressDirectory(memory), "deposit address");
}

public sealed class MemoryDepositAddressDirectory(MemoryGrainStore store) : IDepositAddressDirectory
{
    public Task<IReadOnlyList<DepositAddressState>> FindAsync(string network, IReadOnlyCollection<string> addresses, CancellationToken ct)
    {
        var rows = store.GetProjection(DepositAddressProjection.Table);
        var found = new List<DepositAddressState>();
        foreach (var key in addresses.Select(a => DepositAddressKeys.Of(network, a)).Distinct(StringComparer.Ordinal))
        {
            if (rows.TryGetValue(key, out var row))
            {
                found.Add(JsonSerializer.Deserialize<DepositAddressState>((string)row[DepositAddressProjection.DocumentColumn]!, DepositAddressProjection.Json)!);
            }
        }

        return Task.FromResult<IReadOnlyList<DepositAddressState>>(found);
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
        await using var command = dataSource.CreateCommand("SELECT document::text FROM deposit_addresses WHERE grain_key = ANY(@keys)");
        command.Parameters.Add(new NpgsqlParameter("keys", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = keys });
        var found = new List<DepositAddressState>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            found.Add(JsonSerializer.Deserialize<DepositAddressState>(reader.GetString(0), DepositAddressProjection.Json)!);
        }

        return found;
    }
}
