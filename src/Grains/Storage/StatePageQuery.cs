using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace CryptoPay.Grains.Storage;

/// <summary>
/// A filtered page of a projection table's stored states (<c>state-&gt;'state'</c>): the conditions and their parameters
/// are added once and serve both the page query and its count.
/// </summary>
public sealed class StatePageQuery(string table, string alias)
{
    private readonly StringBuilder where = new();
    private readonly List<(string Name, object Value, NpgsqlDbType Type)> parameters = [];

    /// <summary>Adds a condition (ANDed with the others) and the parameters it names.</summary>
    public StatePageQuery Where(string condition, params (string Name, object Value, NpgsqlDbType Type)[] named)
    {
        where.Append(where.Length == 0 ? "" : " AND ").Append(condition);
        parameters.AddRange(named);
        return this;
    }

    /// <summary>The states of page <paramref name="page"/> (from 1) in <paramref name="orderBy"/> order, and how many match in all.</summary>
    public async Task<(List<T> Items, long Total)> ReadAsync<T>(NpgsqlDataSource dataSource, string orderBy, int page, int pageSize, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var list = Command(dataSource, string.Create(CultureInfo.InvariantCulture,
            $"SELECT {alias}.state->'state' FROM {table} {alias} WHERE {where} ORDER BY {orderBy} LIMIT @limit OFFSET @offset"));
        list.Parameters.Add(new NpgsqlParameter("limit", NpgsqlDbType.Integer) { Value = pageSize });
        list.Parameters.Add(new NpgsqlParameter("offset", NpgsqlDbType.Bigint) { Value = (long)(page - 1) * pageSize });
        await using var count = Command(dataSource, $"SELECT count(*) FROM {table} {alias} WHERE {where}");

        var items = new List<T>();
        await using (var reader = await list.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                items.Add(JsonSerializer.Deserialize<T>(reader.GetString(0), StateJson.Options)!);
            }
        }

        return (items, (long)(await count.ExecuteScalarAsync(ct).ConfigureAwait(false))!);
    }

    private NpgsqlCommand Command(NpgsqlDataSource dataSource, string sql)
    {
        var command = dataSource.CreateCommand(sql);
        foreach (var (name, value, type) in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter(name, type) { Value = value });
        }

        return command;
    }
}
