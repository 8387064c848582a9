using System.Numerics;
using CryptoPay.Grains.Storage;
using CryptoPay.TestSupport.Postgres;
using Npgsql;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace CryptoPay.Grains.Tests.Storage;

public sealed record SampleState
{
    public string Label { get; set; } = "";

    public BigInteger Units { get; set; }

    /// <summary>A non-zero initialiser: a written 0 must read back as 0.</summary>
    public int Retries { get; set; } = 7;

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A state with effects it may still have to deliver (as a grain's outbox), for a projection with a pending-effects table.</summary>
public sealed record OutboxState : IPendingEffectsRecord
{
    public List<string> Effects { get; set; } = [];

    [System.Text.Json.Serialization.JsonIgnore]
    public DateTimeOffset? RetryAt { get; set; }

    public void Restore(DateTimeOffset? retryAt)
    {
        RetryAt = retryAt;
        if (retryAt is null)
        {
            Effects.Clear();
        }
    }
}

/// <summary>The projected storage on both backends: conditional writes, typed columns written with the state, keys kept as text.</summary>
[Collection("postgres")]
public sealed class ProjectedGrainStorageTests(PostgresFixture postgres)
{
    public static readonly TableProjection<SampleState> Projection = new TableProjection<SampleState>("sample", "sample_states")
        .Column("label", ColumnType.Text, s => s.Label)
        .Column("units", ColumnType.Numeric, s => s.Units)
        .Column("updated_at", ColumnType.TimestampTz, s => s.UpdatedAt);

    public static readonly TableProjection<OutboxState> OutboxProjection = new TableProjection<OutboxState>("outbox", "outbox_states")
        .PendingEffectsIn("outbox_pending");

    public const string CreateTable =
        "CREATE TABLE sample_states (grain_key text PRIMARY KEY, version bigint NOT NULL, state jsonb NOT NULL, " +
        "label text NOT NULL, units numeric NOT NULL, updated_at timestamptz NOT NULL); " +
        "CREATE TABLE outbox_states (grain_key text PRIMARY KEY, version bigint NOT NULL, state jsonb NOT NULL); " +
        "CREATE TABLE outbox_pending (grain_key text PRIMARY KEY, version bigint NOT NULL, retry_at timestamptz NOT NULL)";

    private static readonly DateTimeOffset RetryAt = new(2026, 12, 5, 4, 0, 0, TimeSpan.Zero);

    public static TheoryData<string> Backends => new() { "memory", "postgres" };

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task State_round_trips_with_exact_numbers_and_written_defaults(string backend)
    {
        var (storage, _) = await CreateAsync(backend);
        var id = GrainId.Create("sample", "a");
        var written = new GrainState<SampleState>(new SampleState
        {
            Label = "first",
            Units = BigInteger.Parse("123456789012345678901234567890"),
            Retries = 0,
            UpdatedAt = new DateTimeOffset(2026, 12, 3, 10, 0, 0, TimeSpan.FromHours(2)),
        });

        await storage.WriteStateAsync("sample", id, written);
        var read = new GrainState<SampleState>();
        await storage.ReadStateAsync("sample", id, read);

        Assert.True(read.RecordExists);
        Assert.Equal("1", read.ETag);
        Assert.Equal(written.State, read.State);
        Assert.Equal(0, read.State!.Retries);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_missing_grain_reads_as_a_new_state_without_an_etag(string backend)
    {
        var (storage, _) = await CreateAsync(backend);
        var read = new GrainState<SampleState>();

        await storage.ReadStateAsync("sample", GrainId.Create("sample", "nobody"), read);

        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.Equal(new SampleState(), read.State);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_stale_write_fails_and_leaves_the_stored_state(string backend)
    {
        var (storage, _) = await CreateAsync(backend);
        var id = GrainId.Create("sample", "b");
        var first = new GrainState<SampleState>(new SampleState { Label = "v1" });
        await storage.WriteStateAsync("sample", id, first);
        var stale = new GrainState<SampleState>(new SampleState { Label = "stale" }) { ETag = first.ETag };
        first.State!.Label = "v2";
        await storage.WriteStateAsync("sample", id, first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("sample", id, stale));
        // Two activations creating the same grain: the second insert fails too.
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("sample", id, new GrainState<SampleState>(new SampleState { Label = "twin" })));

        var read = new GrainState<SampleState>();
        await storage.ReadStateAsync("sample", id, read);
        Assert.Equal("v2", read.State!.Label);
        Assert.Equal("2", read.ETag);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Hex_looking_keys_are_kept_as_the_text_they_are(string backend)
    {
        var (storage, _) = await CreateAsync(backend);
        string[] keys = ["020235", "20235", "ABC", "abc", "a+b"];
        foreach (var key in keys)
        {
            await storage.WriteStateAsync("sample", GrainId.Create("sample", key), new GrainState<SampleState>(new SampleState { Label = key }));
        }

        foreach (var key in keys)
        {
            var read = new GrainState<SampleState>();
            await storage.ReadStateAsync("sample", GrainId.Create("sample", key), read);
            Assert.Equal(key, read.State!.Label);
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Columns_are_written_with_the_state(string backend)
    {
        var (storage, connection) = await CreateAsync(backend);
        var id = GrainId.Create("sample", "c");
        var state = new GrainState<SampleState>(new SampleState { Label = "one", Units = 5, UpdatedAt = DateTimeOffset.UnixEpoch });
        await storage.WriteStateAsync("sample", id, state);
        state.State!.Label = "two";
        state.State.Units = 12;
        await storage.WriteStateAsync("sample", id, state);

        var (label, units) = backend == "memory"
            ? ((string)((MemoryProjectedGrainStorage)storage).Rows("sample_states").Single().Columns[0]!,
               (BigInteger)((MemoryProjectedGrainStorage)storage).Rows("sample_states").Single().Columns[1]!)
            : await ReadColumnsAsync(connection!, "c");
        Assert.Equal(("two", new BigInteger(12)), (label, units));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Clearing_needs_the_current_version(string backend)
    {
        var (storage, _) = await CreateAsync(backend);
        var id = GrainId.Create("sample", "d");
        var state = new GrainState<SampleState>(new SampleState { Label = "x" });
        await storage.WriteStateAsync("sample", id, state);
        var stale = new GrainState<SampleState>(state.State) { ETag = state.ETag };
        await storage.WriteStateAsync("sample", id, state);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("sample", id, stale));
        await storage.ClearStateAsync("sample", id, state);

        var read = new GrainState<SampleState>();
        await storage.ReadStateAsync("sample", id, read);
        Assert.False(read.RecordExists);
    }

    [Fact]
    public async Task An_unknown_state_name_is_a_configuration_error()
    {
        var (storage, _) = await CreateAsync("memory");

        await Assert.ThrowsAsync<BadProviderConfigException>(() =>
            storage.WriteStateAsync("other", GrainId.Create("sample", "e"), new GrainState<SampleState>(new SampleState())));
    }

    /// <summary>
    /// Writes PostgreSQL refuses (a NUL in text and jsonb) among valid ones on the silo's data source settings (no
    /// auto-prepare, connections not reset): each refused write fails alone, and every other write and read on the same
    /// pooled connections answers right (an Npgsql connector left mid-protocol answered the next command with
    /// "unexpected backend message DataRow" after its write had committed).
    /// </summary>
    [Fact]
    public async Task A_write_postgres_refuses_leaves_no_pooled_connection_answering_the_next_command_wrongly()
    {
        var connection = new NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync())
        {
            MaxPoolSize = 2,
            NoResetOnClose = true,
        }.ConnectionString;
        var (storage, _) = await CreateAsync("postgres", connection);
        var refused = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 330), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (i, _) =>
        {
            var id = GrainId.Create("sample", $"k{i}");
            var bad = i % 11 == 5;
            var state = new GrainState<SampleState>(new SampleState { Label = bad ? "a\u0000b" : $"label {i}", Units = i, UpdatedAt = DateTimeOffset.UnixEpoch });
            try
            {
                await storage.WriteStateAsync("sample", id, state);
                Assert.False(bad, $"write {i} with a NUL was stored");
            }
            catch (Exception error) when (bad && error is not Xunit.Sdk.XunitException)
            {
                Interlocked.Increment(ref refused);
                return;
            }

            var read = new GrainState<SampleState>();
            await storage.ReadStateAsync("sample", id, read);
            Assert.Equal(($"label {i}", new BigInteger(i), "1"), (read.State!.Label, read.State.Units, read.ETag));
        });

        Assert.Equal(30, refused);
    }

    /// <summary>
    /// Writes issued together are committed together (group commit): far fewer transactions than writes, read from
    /// each row's inserting transaction id (xmin), and every write answered with its own version.
    /// </summary>
    [Fact]
    public async Task Concurrent_writes_of_many_grains_commit_in_shared_transactions()
    {
        var (storage, connection) = await CreateAsync("postgres");
        const int Writes = 400;
        var states = Enumerable.Range(0, Writes)
            .Select(i => new GrainState<SampleState>(new SampleState { Label = $"label {i}", Units = i, UpdatedAt = DateTimeOffset.UnixEpoch }))
            .ToList();

        await Task.WhenAll(states.Select((state, i) => storage.WriteStateAsync("sample", GrainId.Create("sample", $"g{i}"), state)));

        Assert.All(states, state => Assert.Equal("1", state.ETag));
        await using var dataSource = NpgsqlDataSource.Create(connection!);
        await using var command = dataSource.CreateCommand("SELECT count(*), count(DISTINCT xmin::text) FROM sample_states");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var (rows, transactions) = (reader.GetInt64(0), reader.GetInt64(1));
        Assert.Equal(Writes, rows);
        Assert.True(transactions <= Writes / 10, $"{Writes} concurrent writes took {transactions} transactions");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_key_drawn_for_a_new_grain_skips_its_first_read_once_and_can_never_overwrite_a_row(string backend)
    {
        var (storage, _) = await CreateAsync(backend);
        var key = storage.NewKeys.NewGuid("sample");
        var id = GrainId.Create(GrainType.Create("sample"), GrainIdKeyExtensions.CreateGuidKey(key));
        // A row under the key, as no new grain can find one: the first read of the drawn key does not look for it.
        await storage.WriteStateAsync("sample", id, new GrainState<SampleState>(new SampleState { Label = "stored" }));

        var first = new GrainState<SampleState>();
        await storage.ReadStateAsync("sample", id, first);
        var second = new GrainState<SampleState>();
        await storage.ReadStateAsync("sample", id, second);

        Assert.False(first.RecordExists);
        Assert.Null(first.ETag);
        // Even so, its write is an insert: it fails on the row instead of replacing it.
        first.State!.Label = "new";
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("sample", id, first));
        Assert.True(second.RecordExists);
        Assert.Equal("stored", second.State!.Label);
        // Drawn for another state, the same key is read as usual.
        Assert.False(storage.NewKeys.Claim("other", id.Key.ToString()!));
    }

    /// <summary>
    /// Effects written with a state are pending, with their retry time, until the delivery of that version is recorded;
    /// then the state reads back without them, though its row was not written again.
    /// </summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public async Task Effects_written_with_a_state_read_back_pending_until_their_delivery_is_recorded(string backend)
    {
        var (storage, _) = await CreateAsync(backend);
        var id = GrainId.Create("outbox", "a");
        var state = new GrainState<OutboxState>(new OutboxState { Effects = ["e1"], RetryAt = RetryAt });
        await storage.WriteStateAsync("outbox", id, state);

        var pending = await ReadOutboxAsync(storage, id);
        Assert.Equal(("e1", RetryAt, "1"), (string.Join(",", pending.State!.Effects), pending.State.RetryAt, pending.ETag));

        await storage.EffectsDeliveredAsync<OutboxState>(id, state.ETag);
        var delivered = await ReadOutboxAsync(storage, id);
        Assert.Equal(("", (DateTimeOffset?)null, "1"), (string.Join(",", delivered.State!.Effects), delivered.State.RetryAt, delivered.ETag));
    }

    /// <summary>A delivery recorded late, for a version written over since, leaves the effects of the newer version pending.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_delivery_recorded_for_an_older_version_leaves_the_newer_versions_effects_pending(string backend)
    {
        var (storage, _) = await CreateAsync(backend);
        var id = GrainId.Create("outbox", "b");
        var state = new GrainState<OutboxState>(new OutboxState { Effects = ["e1"], RetryAt = RetryAt });
        await storage.WriteStateAsync("outbox", id, state);
        var first = state.ETag;
        state.State!.Effects.Add("e2");
        await storage.WriteStateAsync("outbox", id, state);

        await storage.EffectsDeliveredAsync<OutboxState>(id, first);

        var read = await ReadOutboxAsync(storage, id);
        Assert.Equal(("e1,e2", RetryAt, "2"), (string.Join(",", read.State!.Effects), read.State.RetryAt, read.ETag));
    }

    /// <summary>A write without effects, or the state's deletion, leaves no pending row; a stale write changes none.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public async Task A_write_without_effects_or_a_deletion_leaves_no_pending_row_and_a_stale_write_touches_none(string backend)
    {
        var (storage, connection) = await CreateAsync(backend);
        var id = GrainId.Create("outbox", "c");
        var state = new GrainState<OutboxState>(new OutboxState { Effects = ["e1"], RetryAt = RetryAt });
        await storage.WriteStateAsync("outbox", id, state);
        var stale = new GrainState<OutboxState>(new OutboxState()) { ETag = state.ETag };
        state.State = new OutboxState { Effects = ["e2"], RetryAt = RetryAt.AddMinutes(1) };
        await storage.WriteStateAsync("outbox", id, state);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("outbox", id, stale));
        Assert.Equal(RetryAt.AddMinutes(1), (await ReadOutboxAsync(storage, id)).State!.RetryAt);

        state.State = new OutboxState();
        await storage.WriteStateAsync("outbox", id, state);
        Assert.Equal(0, await PendingRowsAsync(storage, connection));

        state.State = new OutboxState { Effects = ["e3"], RetryAt = RetryAt };
        await storage.WriteStateAsync("outbox", id, state);
        Assert.Equal(1, await PendingRowsAsync(storage, connection));
        await storage.ClearStateAsync("outbox", id, state);
        Assert.Equal(0, await PendingRowsAsync(storage, connection));
    }

    [Fact]
    public async Task Recording_deliveries_for_a_projection_without_a_pending_effects_table_is_a_configuration_error()
    {
        var (storage, _) = await CreateAsync("memory");

        Assert.Throws<BadProviderConfigException>(() => { _ = storage.EffectsDeliveredAsync<SampleState>(GrainId.Create("sample", "x"), "1"); });
    }

    private static async Task<long> PendingRowsAsync(ProjectedGrainStorage storage, string? connection)
    {
        if (storage is MemoryProjectedGrainStorage memory)
        {
            return memory.PendingEffects("outbox_pending").Count();
        }

        await using var dataSource = NpgsqlDataSource.Create(connection!);
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM outbox_pending");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<GrainState<OutboxState>> ReadOutboxAsync(ProjectedGrainStorage storage, GrainId id)
    {
        var read = new GrainState<OutboxState>();
        await storage.ReadStateAsync("outbox", id, read);
        return read;
    }

    private async Task<(ProjectedGrainStorage Storage, string? Connection)> CreateAsync(string backend, string? connection = null)
    {
        if (backend == "memory")
        {
            return (new MemoryProjectedGrainStorage([Projection, OutboxProjection]), null);
        }

        connection ??= await postgres.CreateDatabaseAsync();
        var dataSource = NpgsqlDataSource.Create(connection);
        await using (var command = dataSource.CreateCommand(CreateTable))
        {
            await command.ExecuteNonQueryAsync();
        }

        return (new PostgresProjectedGrainStorage(dataSource, [Projection, OutboxProjection]), connection);
    }

    private static async Task<(string, BigInteger)> ReadColumnsAsync(string connection, string key)
    {
        await using var dataSource = NpgsqlDataSource.Create(connection);
        await using var command = dataSource.CreateCommand("SELECT label, units FROM sample_states WHERE grain_key = $1");
        command.Parameters.AddWithValue(key);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetString(0), reader.GetFieldValue<BigInteger>(1));
    }
}
