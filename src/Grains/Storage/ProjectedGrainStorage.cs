using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace CryptoPay.Grains.Storage;

/// <summary>
/// The Orleans storage provider of grain types whose state feeds list queries (<see cref="TableProjection"/>): each
/// state name has a table of its own, so rows of different grain types never collide, and keys are stored as the
/// text they are (no parsing of hex-looking keys). Writes are conditional on the version read (the ETag): a stale
/// activation's write fails with <see cref="InconsistentStateException"/> instead of overwriting.
/// </summary>
public abstract class ProjectedGrainStorage : IGrainStorage
{
    /// <summary>The provider name grains give in <c>[PersistentState(stateName, ProjectedGrainStorage.Name)]</c>.</summary>
    public const string Name = "projected";

    private readonly Dictionary<string, TableProjection> projections;

    protected ProjectedGrainStorage(IEnumerable<TableProjection> projections)
    {
        this.projections = new Dictionary<string, TableProjection>(StringComparer.Ordinal);
        foreach (var projection in projections)
        {
            if (!this.projections.TryAdd(projection.StateName, projection))
            {
                throw new ArgumentException($"Two projections use the state name '{projection.StateName}'.", nameof(projections));
            }
        }
    }

    public IReadOnlyCollection<TableProjection> Projections => projections.Values;

    /// <summary>Keys drawn on this silo for grains not created yet: their first activation here reads nothing.</summary>
    public NewGrainKeys NewKeys { get; } = new();

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var projection = ProjectionOf<T>(stateName);
        var key = grainId.Key.ToString()!;
        var stored = NewKeys.Claim(stateName, key) ? null : await ReadAsync(projection, key);
        if (stored is { } row)
        {
            grainState.State = JsonSerializer.Deserialize<T>(row.State, StateJson.Options)
                ?? throw new InvalidOperationException($"Stored state of {grainId} ({stateName}) is null.");
            grainState.ETag = row.Version.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var projection = ProjectionOf<T>(stateName);
        var state = grainState.State ?? throw new ArgumentException($"Grain {grainId} writes a null {stateName} state.", nameof(grainState));
        var json = JsonSerializer.SerializeToUtf8Bytes(state, StateJson.Options);
        var expected = ParseETag(grainState.ETag);
        var written = await WriteAsync(projection, grainId.Key.ToString()!, expected, json, projection.Project(state));
        if (written is not { } version)
        {
            throw new InconsistentStateException($"The {stateName} state of {grainId} was changed by another activation.", "unknown", grainState.ETag);
        }

        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var projection = ProjectionOf<T>(stateName);
        if (ParseETag(grainState.ETag) is { } expected && !await DeleteAsync(projection, grainId.Key.ToString()!, expected))
        {
            throw new InconsistentStateException($"The {stateName} state of {grainId} was changed by another activation.", "unknown", grainState.ETag);
        }

        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    /// <summary>The stored state and version of a key, or null.</summary>
    protected abstract Task<(long Version, byte[] State)?> ReadAsync(TableProjection projection, string key);

    /// <summary>Inserts (expected null) or updates (expected = the stored version) state and columns; the new version, or null when the condition failed.</summary>
    protected abstract Task<long?> WriteAsync(TableProjection projection, string key, long? expected, byte[] state, object?[] columns);

    protected abstract Task<bool> DeleteAsync(TableProjection projection, string key, long expected);

    private TableProjection ProjectionOf<T>(string stateName)
    {
        if (!projections.TryGetValue(stateName, out var projection))
        {
            throw new BadProviderConfigException($"No projection is registered for state '{stateName}' in the '{Name}' storage.");
        }

        if (projection.StateType != typeof(T))
        {
            throw new BadProviderConfigException($"State '{stateName}' is projected as {projection.StateType.Name}, not {typeof(T).Name}.");
        }

        return projection;
    }

    private static long? ParseETag(string? etag) =>
        etag is null ? null : long.Parse(etag, NumberStyles.None, CultureInfo.InvariantCulture);
}

/// <summary>
/// Projected state in PostgreSQL: one row per grain in the projection's table, state and columns in one statement.
/// Statements of concurrent grains are committed together (<see cref="StatementBatcher"/>).
/// </summary>
public sealed class PostgresProjectedGrainStorage(NpgsqlDataSource dataSource, IEnumerable<TableProjection> projections)
    : ProjectedGrainStorage(projections)
{
    private readonly ConcurrentDictionary<TableProjection, (string Read, string Insert, string Update, string Delete)> sql = new();
    private readonly StatementBatcher batcher = new(dataSource);

    public NpgsqlDataSource DataSource { get; } = dataSource;

    protected override Task<(long Version, byte[] State)?> ReadAsync(TableProjection projection, string key)
    {
        var text = Sql(projection).Read;
        return batcher.ExecuteAsync(
            () => Command(text, Key(key)),
            static async reader => await reader.ReadAsync()
                ? (reader.GetInt64(0), await reader.GetFieldValueAsync<byte[]>(1))
                : ((long, byte[])?)null);
    }

    protected override Task<long?> WriteAsync(TableProjection projection, string key, long? expected, byte[] state, object?[] columns)
    {
        var text = expected is null ? Sql(projection).Insert : Sql(projection).Update;
        return batcher.ExecuteAsync(
            () =>
            {
                var command = Command(text, Key(key), new NpgsqlParameter<byte[]>
                {
                    TypedValue = state,
                    NpgsqlDbType = projection.StateColumn == StateColumnType.Json ? NpgsqlDbType.Json : NpgsqlDbType.Jsonb,
                });
                for (var i = 0; i < columns.Length; i++)
                {
                    command.Parameters.Add(ColumnParameter(projection.Columns[i].Type, columns[i]));
                }

                if (expected is { } version)
                {
                    command.Parameters.Add(Version(version));
                }

                return command;
            },
            ReadVersionAsync);
    }

    protected override async Task<bool> DeleteAsync(TableProjection projection, string key, long expected)
    {
        var text = Sql(projection).Delete;
        return await batcher.ExecuteAsync(() => Command(text, Key(key), Version(expected)), ReadVersionAsync) is not null;
    }

    private static async Task<long?> ReadVersionAsync(NpgsqlDataReader reader) =>
        await reader.ReadAsync() ? reader.GetInt64(0) : null;

    private static NpgsqlBatchCommand Command(string text, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(text);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter<string> Key(string key) => new() { TypedValue = key, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter<long> Version(long version) => new() { TypedValue = version, NpgsqlDbType = NpgsqlDbType.Bigint };

    private (string Read, string Insert, string Update, string Delete) Sql(TableProjection projection) =>
        sql.GetOrAdd(projection, static p =>
        {
            var names = p.Columns.Select(c => c.Name).ToList();
            var values = string.Concat(names.Select((_, i) => $", ${i + 3}"));
            var sets = string.Concat(names.Select((n, i) => $", {n} = ${i + 3}"));
            return (
                $"SELECT version, state FROM {p.Table} WHERE grain_key = $1",
                $"INSERT INTO {p.Table} (grain_key, version, state{string.Concat(names.Select(n => ", " + n))}) VALUES ($1, 1, $2{values}) " +
                    "ON CONFLICT (grain_key) DO NOTHING RETURNING version",
                $"UPDATE {p.Table} SET version = version + 1, state = $2{sets} WHERE grain_key = $1 AND version = ${names.Count + 3} RETURNING version",
                $"DELETE FROM {p.Table} WHERE grain_key = $1 AND version = $2 RETURNING version");
        });

    private static NpgsqlParameter ColumnParameter(ColumnType type, object? value) => new()
    {
        NpgsqlDbType = type switch
        {
            ColumnType.Text => NpgsqlDbType.Text,
            ColumnType.Integer => NpgsqlDbType.Integer,
            ColumnType.BigInt => NpgsqlDbType.Bigint,
            ColumnType.Numeric => NpgsqlDbType.Numeric,
            ColumnType.Boolean => NpgsqlDbType.Boolean,
            ColumnType.Uuid => NpgsqlDbType.Uuid,
            ColumnType.TimestampTz => NpgsqlDbType.TimestampTz,
            ColumnType.Jsonb => NpgsqlDbType.Jsonb,
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown column type."),
        },
        Value = value switch
        {
            null => DBNull.Value,
            DateTimeOffset time => time.ToUniversalTime(),
            _ => value,
        },
    };
}

/// <summary>One grain's row in <see cref="MemoryProjectedGrainStorage"/>: what a list query reads.</summary>
public sealed record ProjectedRow(string Key, long Version, byte[] State, IReadOnlyList<object?> Columns)
{
    public T Read<T>() => JsonSerializer.Deserialize<T>(State, StateJson.Options)!;
}

/// <summary>Projected state in memory (the embedded default): the same conditional writes, rows kept per table for list queries.</summary>
public sealed class MemoryProjectedGrainStorage(IEnumerable<TableProjection> projections) : ProjectedGrainStorage(projections)
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, ProjectedRow>> tables = new(StringComparer.Ordinal);

    /// <summary>The rows of a projection's table, in no particular order.</summary>
    public IEnumerable<ProjectedRow> Rows(string table) =>
        tables.TryGetValue(table, out var rows) ? rows.Values : [];

    /// <summary>The row of <paramref name="key"/> in <paramref name="table"/>, if one is stored.</summary>
    public ProjectedRow? Row(string table, string key) =>
        tables.TryGetValue(table, out var rows) && rows.TryGetValue(key, out var row) ? row : null;

    protected override Task<(long Version, byte[] State)?> ReadAsync(TableProjection projection, string key) =>
        Task.FromResult<(long, byte[])?>(Table(projection).TryGetValue(key, out var row) ? (row.Version, row.State) : null);

    protected override Task<long?> WriteAsync(TableProjection projection, string key, long? expected, byte[] state, object?[] columns)
    {
        var rows = Table(projection);
        if (expected is not { } version)
        {
            return Task.FromResult<long?>(rows.TryAdd(key, new ProjectedRow(key, 1, state, columns)) ? 1 : null);
        }

        var written = rows.TryGetValue(key, out var current) && current.Version == version &&
            rows.TryUpdate(key, new ProjectedRow(key, version + 1, state, columns), current);
        return Task.FromResult<long?>(written ? version + 1 : null);
    }

    protected override Task<bool> DeleteAsync(TableProjection projection, string key, long expected)
    {
        var rows = Table(projection);
        return Task.FromResult(rows.TryGetValue(key, out var current) && current.Version == expected &&
            rows.TryRemove(new KeyValuePair<string, ProjectedRow>(key, current)));
    }

    private ConcurrentDictionary<string, ProjectedRow> Table(TableProjection projection) =>
        tables.GetOrAdd(projection.Table, _ => new ConcurrentDictionary<string, ProjectedRow>(StringComparer.Ordinal));
}
