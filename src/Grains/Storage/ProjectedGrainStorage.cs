using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
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

    /// <summary>Each state type's projection; null for a type two projections share.</summary>
    private readonly Dictionary<Type, TableProjection?> projectionsByType;

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

        projectionsByType = this.projections.Values.GroupBy(p => p.StateType).ToDictionary(g => g.Key, g => g.Count() == 1 ? g.First() : null);
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
            if (projection.PendingEffectsTable is not null)
            {
                ((IPendingEffectsRecord)grainState.State).Restore(row.RetryAt);
            }

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
        var retryAt = projection.PendingEffectsTable is null ? null : ((IPendingEffectsRecord)state).RetryAt;
        var written = await WriteAsync(projection, grainId.Key.ToString()!, expected, json, projection.Project(state), retryAt);
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

    /// <summary>
    /// Records that the effects stored with version <paramref name="etag"/> of a grain's state were all delivered: deletes
    /// that version's row in the pending-effects table, so the state reads back without them and no sweep retries them.
    /// Deletions of concurrent grains go to the store together. One that fails is logged and changes nothing: the effects
    /// are retried, and their receivers recognise them. The task completes once the deletion was tried; it never fails.
    /// </summary>
    public Task EffectsDeliveredAsync<T>(GrainId grainId, string? etag)
    {
        var projection = ProjectionOf<T>();
        if (projection.PendingEffectsTable is null)
        {
            throw new BadProviderConfigException($"The '{projection.StateName}' projection keeps no pending-effects table.");
        }

        return ParseETag(etag) is { } version ? DeleteDeliveredAsync(projection, grainId.Key.ToString()!, version) : Task.CompletedTask;
    }

    /// <summary>The stored state and version of a key, and when its pending effects are retried (null: none pending), or null.</summary>
    protected abstract Task<(long Version, byte[] State, DateTimeOffset? RetryAt)?> ReadAsync(TableProjection projection, string key);

    /// <summary>
    /// Inserts (expected null) or updates (expected = the stored version) state and columns, and with a pending-effects
    /// table, the state's row there (<paramref name="retryAt"/>; none when null); the new version, or null when the condition failed.
    /// </summary>
    protected abstract Task<long?> WriteAsync(TableProjection projection, string key, long? expected, byte[] state, object?[] columns, DateTimeOffset? retryAt);

    protected abstract Task<bool> DeleteAsync(TableProjection projection, string key, long expected);

    /// <summary>Deletes the pending-effects row of <paramref name="key"/> if it is the one of <paramref name="version"/>; never fails.</summary>
    protected abstract Task DeleteDeliveredAsync(TableProjection projection, string key, long version);

    private TableProjection ProjectionOf<T>() =>
        projectionsByType.TryGetValue(typeof(T), out var projection) && projection is not null
            ? projection
            : throw new BadProviderConfigException($"No single projection is registered for the state type {typeof(T).Name} in the '{Name}' storage.");

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
/// Projected state in PostgreSQL: one row per grain in the projection's table, state and columns in one statement (with
/// the state's pending-effects row, for a projection that keeps them). Statements of concurrent grains are committed
/// together (<see cref="StatementBatcher"/>).
/// </summary>
public sealed class PostgresProjectedGrainStorage(NpgsqlDataSource dataSource, IEnumerable<TableProjection> projections, ILogger? logger = null)
    : ProjectedGrainStorage(projections)
{
    private readonly ConcurrentDictionary<TableProjection, Statements> sql = new();
    private readonly StatementBatcher batcher = new(dataSource);
    private readonly Lock deliveredGate = new();
    private List<(TableProjection Projection, string Key, long Version)> delivered = [];
    private TaskCompletionSource? deliveredStored;
    private bool deletingDelivered;

    public NpgsqlDataSource DataSource { get; } = dataSource;

    protected override Task<(long Version, byte[] State, DateTimeOffset? RetryAt)?> ReadAsync(TableProjection projection, string key)
    {
        var text = Sql(projection).Read;
        return batcher.ExecuteAsync(
            () => Command(text, Key(key)),
            static async reader => await reader.ReadAsync()
                ? (reader.GetInt64(0), await reader.GetFieldValueAsync<byte[]>(1), reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2))
                : ((long, byte[], DateTimeOffset?)?)null);
    }

    protected override Task<long?> WriteAsync(TableProjection projection, string key, long? expected, byte[] state, object?[] columns, DateTimeOffset? retryAt)
    {
        var statements = Sql(projection);
        var text = (expected, retryAt) switch
        {
            (null, null) => statements.Insert,
            (null, _) => statements.InsertPending,
            (_, null) => statements.Update,
            _ => statements.UpdatePending,
        };
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

                if (retryAt is { } at)
                {
                    command.Parameters.Add(ColumnParameter(ColumnType.TimestampTz, at));
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

    /// <remarks>
    /// Queued, and deleted by one statement per table for all queued while the previous one was under way: a grain does
    /// not wait for it, and many grains' deletions cost PostgreSQL one statement.
    /// </remarks>
    protected override Task DeleteDeliveredAsync(TableProjection projection, string key, long version)
    {
        Task stored;
        bool start;
        lock (deliveredGate)
        {
            delivered.Add((projection, key, version));
            stored = (deliveredStored ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            start = !deletingDelivered;
            deletingDelivered = true;
        }

        if (start)
        {
            // Off the caller's scheduler (a grain's), as the batcher's own sends.
            _ = Task.Run(DeleteQueuedDeliveredAsync);
        }

        return stored;
    }

    private async Task DeleteQueuedDeliveredAsync()
    {
        while (true)
        {
            List<(TableProjection Projection, string Key, long Version)> batch;
            TaskCompletionSource done;
            lock (deliveredGate)
            {
                if (delivered.Count == 0)
                {
                    deletingDelivered = false;
                    return;
                }

                (batch, delivered) = (delivered, []);
                done = deliveredStored!;
                deliveredStored = null;
            }

            foreach (var table in batch.GroupBy(d => d.Projection))
            {
                var text = Sql(table.Key).DeleteDelivered;
                var keys = table.Select(d => d.Key).ToArray();
                var versions = table.Select(d => d.Version).ToArray();
                try
                {
                    await batcher.ExecuteAsync(
                        () => Command(text, new NpgsqlParameter<string[]> { TypedValue = keys, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                            new NpgsqlParameter<long[]> { TypedValue = versions, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint }),
                        ReadVersionAsync);
                }
                catch (Exception error)
                {
                    logger?.LogWarning(error, "{Count} delivered effect record(s) of {Table} could not be deleted; their effects will be retried", keys.Length, table.Key.PendingEffectsTable);
                }
            }

            done.SetResult();
        }
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

    private Statements Sql(TableProjection projection) => sql.GetOrAdd(projection, static p => new Statements(p));

    /// <summary>
    /// The SQL of one projection. With a pending-effects table, a write puts the state's row there (its version, the
    /// retry time: the last parameter) or deletes it, in the same statement and only if the state was written.
    /// </summary>
    private sealed class Statements
    {
        public Statements(TableProjection p)
        {
            var names = p.Columns.Select(c => c.Name).ToList();
            var values = string.Concat(names.Select((_, i) => $", ${i + 3}"));
            var sets = string.Concat(names.Select((n, i) => $", {n} = ${i + 3}"));
            var insert = $"INSERT INTO {p.Table} (grain_key, version, state{string.Concat(names.Select(n => ", " + n))}) VALUES ($1, 1, $2{values}) " +
                "ON CONFLICT (grain_key) DO NOTHING RETURNING version";
            var update = $"UPDATE {p.Table} SET version = version + 1, state = $2{sets} WHERE grain_key = $1 AND version = ${names.Count + 3} RETURNING version";
            var delete = $"DELETE FROM {p.Table} WHERE grain_key = $1 AND version = $2 RETURNING version";
            Insert = insert;
            Update = update;
            Delete = delete;
            if (p.PendingEffectsTable is not { } pending)
            {
                Read = $"SELECT version, state, NULL::timestamptz FROM {p.Table} WHERE grain_key = $1";
                return;
            }

            Read = $"SELECT s.version, s.state, e.retry_at FROM {p.Table} s LEFT JOIN {pending} e ON e.grain_key = s.grain_key AND e.version = s.version WHERE s.grain_key = $1";
            // A new state's key has no pending row (a deletion of the state deletes it): a plain insert, not the
            // speculative insertion of an upsert (~10 % of PostgreSQL's work per invoice creation, pgbench).
            InsertPending = $"WITH s AS ({insert}), e AS ({PutPending(pending, names.Count + 3)}) SELECT version FROM s";
            UpdatePending = $"WITH s AS ({update}), e AS ({PutPending(pending, names.Count + 4)} " +
                "ON CONFLICT (grain_key) DO UPDATE SET version = excluded.version, retry_at = excluded.retry_at) SELECT version FROM s";
            Update = $"WITH s AS ({update}), e AS (DELETE FROM {pending} WHERE grain_key = $1 AND EXISTS (SELECT FROM s)) SELECT version FROM s";
            Delete = $"WITH s AS ({delete}), e AS (DELETE FROM {pending} WHERE grain_key = $1 AND EXISTS (SELECT FROM s)) SELECT version FROM s";
            DeleteDelivered = $"WITH gone AS (DELETE FROM {pending} e USING unnest($1::text[], $2::bigint[]) AS d (grain_key, version) " +
                "WHERE e.grain_key = d.grain_key AND e.version = d.version RETURNING 1) SELECT count(*) FROM gone";
        }

        public string Read { get; }

        public string Insert { get; }

        public string Update { get; }

        public string Delete { get; }

        public string InsertPending { get; } = "";

        public string UpdatePending { get; } = "";

        public string DeleteDelivered { get; } = "";

        private static string PutPending(string table, int retryParameter) =>
            $"INSERT INTO {table} (grain_key, version, retry_at) SELECT $1, version, ${retryParameter} FROM s";
    }

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

    /// <summary>Per pending-effects table: the version of each key whose stored effects are pending, and their retry time.</summary>
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, (long Version, DateTimeOffset RetryAt)>> pending = new(StringComparer.Ordinal);

    /// <summary>The rows of a projection's table, in no particular order.</summary>
    public IEnumerable<ProjectedRow> Rows(string table) =>
        tables.TryGetValue(table, out var rows) ? rows.Values : [];

    /// <summary>The row of <paramref name="key"/> in <paramref name="table"/>, if one is stored.</summary>
    public ProjectedRow? Row(string table, string key) =>
        tables.TryGetValue(table, out var rows) && rows.TryGetValue(key, out var row) ? row : null;

    /// <summary>The keys in a pending-effects table (<see cref="TableProjection.PendingEffectsTable"/>) and their retry times.</summary>
    public IEnumerable<(string Key, DateTimeOffset RetryAt)> PendingEffects(string table) =>
        pending.TryGetValue(table, out var effects) ? effects.Select(e => (e.Key, e.Value.RetryAt)) : [];

    protected override Task<(long Version, byte[] State, DateTimeOffset? RetryAt)?> ReadAsync(TableProjection projection, string key)
    {
        if (!Table(projection).TryGetValue(key, out var row))
        {
            return Task.FromResult<(long, byte[], DateTimeOffset?)?>(null);
        }

        DateTimeOffset? retryAt = projection.PendingEffectsTable is { } table && Pending(table).TryGetValue(key, out var effects) && effects.Version == row.Version
            ? effects.RetryAt
            : null;
        return Task.FromResult<(long, byte[], DateTimeOffset?)?>((row.Version, row.State, retryAt));
    }

    protected override Task<long?> WriteAsync(TableProjection projection, string key, long? expected, byte[] state, object?[] columns, DateTimeOffset? retryAt)
    {
        var rows = Table(projection);
        long? written;
        if (expected is not { } version)
        {
            written = rows.TryAdd(key, new ProjectedRow(key, 1, state, columns)) ? 1 : null;
        }
        else
        {
            written = rows.TryGetValue(key, out var current) && current.Version == version &&
                rows.TryUpdate(key, new ProjectedRow(key, version + 1, state, columns), current) ? version + 1 : null;
        }

        if (written is { } stored && projection.PendingEffectsTable is { } table)
        {
            if (retryAt is { } at)
            {
                Pending(table)[key] = (stored, at);
            }
            else
            {
                Pending(table).TryRemove(key, out _);
            }
        }

        return Task.FromResult(written);
    }

    protected override Task<bool> DeleteAsync(TableProjection projection, string key, long expected)
    {
        var rows = Table(projection);
        var deleted = rows.TryGetValue(key, out var current) && current.Version == expected &&
            rows.TryRemove(new KeyValuePair<string, ProjectedRow>(key, current));
        if (deleted && projection.PendingEffectsTable is { } table)
        {
            Pending(table).TryRemove(key, out _);
        }

        return Task.FromResult(deleted);
    }

    protected override Task DeleteDeliveredAsync(TableProjection projection, string key, long version)
    {
        var effects = Pending(projection.PendingEffectsTable!);
        if (effects.TryGetValue(key, out var current) && current.Version == version)
        {
            effects.TryRemove(new KeyValuePair<string, (long, DateTimeOffset)>(key, current));
        }

        return Task.CompletedTask;
    }

    private ConcurrentDictionary<string, ProjectedRow> Table(TableProjection projection) =>
        tables.GetOrAdd(projection.Table, _ => new ConcurrentDictionary<string, ProjectedRow>(StringComparer.Ordinal));

    private ConcurrentDictionary<string, (long Version, DateTimeOffset RetryAt)> Pending(string table) =>
        pending.GetOrAdd(table, _ => new ConcurrentDictionary<string, (long, DateTimeOffset)>(StringComparer.Ordinal));
}
