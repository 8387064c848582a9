using System.Collections.Concurrent;
using CryptoPay.Runtime.Grains;
using Npgsql;
using NpgsqlTypes;

namespace CryptoPay.Runtime.Storage.Postgres;

/// <summary>
/// The production store. A turn commits as one <see cref="NpgsqlBatch"/>: one round trip, one implicit
/// transaction. The batch opens with the conditional state write; a failed check raises (cp_assert)
/// and rolls back everything the turn wrote: state, reminders, outbox and consumed messages.
/// </summary>
public sealed class PostgresGrainStore(NpgsqlDataSource dataSource, IEnumerable<IMigrationSource>? migrations = null) : IGrainStore
{
    private const string AssertFailed = "CP001";
    private readonly IReadOnlyList<IMigrationSource> sources = [EmbeddedMigrations.Runtime, .. migrations ?? []];
    private readonly ConcurrentDictionary<StateProjection, string> projectionSql = new();
    private readonly ConcurrentDictionary<StateProjection, string> createdProjectionSql = new();
    private readonly Lock commitGate = new();
    private readonly List<PendingCommit> waitingCommits = [];
    private int commitsInFlight;
    private readonly PostgresChangeFeed changeFeed = new(dataSource);

    public string Name => "postgres";

    public IGrainChangeFeed ChangeFeed => changeFeed;

    /// <summary>
    /// A data source for the store: the turn statements run thousands of times a second, so unless the
    /// operator chose otherwise they are prepared once per connection instead of parsed and planned each time.
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        }

        // Every store operation takes a pooled connection, and on each open Npgsql would first reset the
        // session (RESET ALL, DISCARD TEMP, ... seven statements). The store leaves no session state behind
        // (the migrator releases its advisory lock in a finally), so the reset is pure cost: ~40 % of a turn.
        builder.ConnectionStringBuilder.NoResetOnClose = true;

        return builder.Build();
    }

    public NpgsqlDataSource DataSource => dataSource;

    public Task InitializeAsync(CancellationToken ct) => PostgresMigrator.ApplyAsync(dataSource, sources, ct);

    public async Task<StoredGrain> ReadAsync(GrainId grain, long knownVersion, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT version, CASE WHEN version = $3 THEN NULL ELSE state::text END FROM cp_grains WHERE grain_type = $1 AND grain_key = $2");
        command.Parameters.Add(new() { Value = grain.Type });
        command.Parameters.Add(new() { Value = grain.Key });
        command.Parameters.Add(new() { Value = knownVersion });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            return new StoredGrain(0, null);
        }

        return new StoredGrain(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1));
    }

    public async Task<IReadOnlyList<StoredGrain>> ReadManyAsync(IReadOnlyList<GrainRead> reads, CancellationToken ct)
    {
        if (reads.Count == 1)
        {
            return [await ReadAsync(reads[0].Grain, reads[0].KnownVersion, ct).ConfigureAwait(false)];
        }

        var types = new string[reads.Count];
        var keys = new string[reads.Count];
        var known = new long[reads.Count];
        for (var i = 0; i < reads.Count; i++)
        {
            (types[i], keys[i], known[i]) = (reads[i].Grain.Type, reads[i].Grain.Key, reads[i].KnownVersion);
        }

        // One primary-key probe per requested grain, whatever the statistics: the statement is prepared once per
        // connection, often while cp_grains is still empty, and a plain join would keep that moment's generic plan
        // (a hash join over a sequential scan of the whole table) for the connection's life. OFFSET 0 keeps the
        // lateral subquery from being flattened into such a join.
        await using var command = dataSource.CreateCommand("""
            SELECT r.i, g.version, CASE WHEN g.version = r.known THEN NULL ELSE g.state::text END
            FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS r (grain_type, grain_key, known, i)
            CROSS JOIN LATERAL (SELECT version, state FROM cp_grains g
                                WHERE g.grain_type = r.grain_type AND g.grain_key = r.grain_key OFFSET 0) g
            """);
        AddValues(command.Parameters, types, keys, known);
        var results = new StoredGrain[reads.Count];
        await using (var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                results[reader.GetInt64(0) - 1] = new StoredGrain(reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetString(2));
            }
        }

        for (var i = 0; i < results.Length; i++)
        {
            results[i] ??= new StoredGrain(0, null);
        }

        return results;
    }

    /// <summary>Appends a turn's statements to a batch; true when it writes only its state and carries no assertion.</summary>
    private (bool StateOnly, bool Conditional) AddCommit(NpgsqlBatch batch, TurnCommit commit, bool grouped)
    {
        var now = commit.Now.ToUniversalTime();

        // A turn that only changes its state needs no assertion: the conditional write's row count says it all.
        // With more statements (or other turns in the same transaction) the assertion aborts the whole batch on a lost race.
        var stateOnly = !grouped && commit.Consumed.Count == 0 && commit.FiredReminder is null && commit.Reminders.Count == 0 &&
                        commit.Outgoing.Count == 0 && commit.Projection is null && !commit.AnnounceChange &&
                        commit.Created.Count == 0;
        var write = commit.ExpectedVersion == 0
            ? """
              INSERT INTO cp_grains (grain_type, grain_key, version, state, updated_at, recent_turns)
              VALUES ($1, $2, 1, $3::jsonb, $4, ARRAY[$5::uuid])
              ON CONFLICT DO NOTHING RETURNING 1
              """
            : """
              UPDATE cp_grains SET version = version + 1, state = $3::jsonb, updated_at = $4,
                  recent_turns = (ARRAY[$5::uuid] || recent_turns)[1:$7]
              WHERE grain_type = $1 AND grain_key = $2 AND version = $6 RETURNING 1
              """;
        Add(batch, stateOnly ? write : $"WITH w AS ({write}) SELECT cp_assert(EXISTS (SELECT 1 FROM w), 'version_conflict')",
            commit.ExpectedVersion == 0
                ? [commit.Grain.Type, commit.Grain.Key, commit.StateJson, now, commit.TurnId]
                : [commit.Grain.Type, commit.Grain.Key, commit.StateJson, now, commit.TurnId, commit.ExpectedVersion, TurnCommit.RecentTurnsKept]);

        if (commit.AnnounceChange)
        {
            // Delivered to listening silos only if this transaction commits, after it did.
            Add(batch, "SELECT pg_notify($1, $2)", PostgresChangeFeed.Channel, PostgresChangeFeed.ChangePayload(commit.Grain, commit.ExpectedVersion + 1));
        }

        if (commit.Consumed.Count > 0)
        {
            Add(batch, """
                WITH d AS (DELETE FROM cp_messages WHERE id = ANY($1) RETURNING 1)
                SELECT cp_assert((SELECT count(*) FROM d) = $2, 'message_consumed')
                """, commit.Consumed.ToArray(), (long)commit.Consumed.Count);
        }

        var conditional = AddCreations(batch, commit, now);

        if (commit.FiredReminder is { } fired)
        {
            if (commit.FiredReminderNextDue is { } next)
            {
                Add(batch, """
                    UPDATE cp_reminders SET due_at = $4, lease_owner = NULL, lease_until = NULL
                    WHERE grain_type = $1 AND grain_key = $2 AND name = $3 AND due_at = $5
                    """, commit.Grain.Type, commit.Grain.Key, fired.Name, next.ToUniversalTime(), fired.DueAt.ToUniversalTime());
            }
            else
            {
                Add(batch, "DELETE FROM cp_reminders WHERE grain_type = $1 AND grain_key = $2 AND name = $3 AND due_at = $4",
                    commit.Grain.Type, commit.Grain.Key, fired.Name, fired.DueAt.ToUniversalTime());
            }
        }

        foreach (var change in commit.Reminders)
        {
            if (change.DueAt is { } due)
            {
                Add(batch, """
                    INSERT INTO cp_reminders (grain_type, grain_key, name, due_at, period_ms) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (grain_type, grain_key, name) DO UPDATE
                    SET due_at = excluded.due_at, period_ms = excluded.period_ms, lease_owner = NULL, lease_until = NULL
                    """, commit.Grain.Type, commit.Grain.Key, change.Name, due.ToUniversalTime(), (object?)PeriodMs(change.Period) ?? DBNull.Value);
            }
            else
            {
                Add(batch, "DELETE FROM cp_reminders WHERE grain_type = $1 AND grain_key = $2 AND name = $3",
                    commit.Grain.Type, commit.Grain.Key, change.Name);
            }
        }

        foreach (var onlyIfTargetExists in new[] { false, true })
        {
            var outgoing = commit.Outgoing.Where(m => m.OnlyIfTargetExists == onlyIfTargetExists).ToList();
            if (outgoing.Count == 0)
            {
                continue;
            }

            conditional |= onlyIfTargetExists;

            // A conditional message is written only if its target has a row, as seen inside this transaction. OFFSET 0
            // keeps the EXISTS a per-message primary-key probe instead of a semi-join that a generic plan made on an
            // empty cp_grains would run as a scan of the whole table (see ReadManyAsync).
            // One message (the usual case) goes as a one-row VALUES: PostgreSQL keeps a generic plan for it, where the
            // unnest form, estimated at ten rows, would be planned afresh on every execution.
            var single = outgoing.Count == 1;
            object Field<T>(Func<GrainMessage, T> pick) => single ? pick(outgoing[0])! : outgoing.Select(pick).ToArray();
            var source = single
                ? "(VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::jsonb, $6::timestamptz))"
                : "unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::timestamptz[])";
            var command = Add(batch, $"""
                  INSERT INTO cp_messages (id, target_type, target_key, method, args, created_at, sender_type, sender_key, due_at, lease_owner, lease_until)
                  SELECT m.id, m.target_type, m.target_key, m.method, m.args, m.created_at, $7, $8, $9, $10, $11
                  FROM {source} AS m (id, target_type, target_key, method, args, created_at)
                  {(onlyIfTargetExists ? "WHERE EXISTS (SELECT 1 FROM cp_grains g WHERE g.grain_type = m.target_type AND g.grain_key = m.target_key OFFSET 0) RETURNING id" : "")}
                  """,
                Field(m => m.Id),
                Field(m => m.Target.Type),
                Field(m => m.Target.Key),
                Field(m => m.Method),
                Field(m => m.ArgsJson),
                Field(m => m.CreatedAt.ToUniversalTime()),
                commit.Grain.Type,
                commit.Grain.Key,
                now,
                commit.SiloId,
                now + commit.OutgoingLease);
            command.Parameters[4].NpgsqlDbType = single ? NpgsqlDbType.Jsonb : NpgsqlDbType.Array | NpgsqlDbType.Jsonb;
        }

        if (commit.Projection is { } row)
        {
            var command = new NpgsqlBatchCommand(projectionSql.GetOrAdd(row.Projection, BuildProjectionSql));
            command.Parameters.Add(new NpgsqlParameter { Value = row.Key });
            for (var i = 0; i < row.Values.Length; i++)
            {
                command.Parameters.Add(ProjectionParameter(row.Projection.Columns[i].Type, row.Values[i]));
            }

            batch.BatchCommands.Add(command);
        }

        return (stateOnly, conditional);
    }

    /// <summary>
    /// Appends the grains a turn creates: one insert of their rows (skipping those that exist, returning those written),
    /// then their reminders and projection rows, each written only for a grain this commit created (version 1 with this
    /// turn's id), as the earlier statement of the same transaction left them. Three statements however many grains.
    /// Each EXISTS carries OFFSET 0 so it stays a primary-key probe under a generic plan made on an empty table (see ReadManyAsync).
    /// </summary>
    private bool AddCreations(NpgsqlBatch batch, TurnCommit commit, DateTimeOffset now)
    {
        if (commit.Created.Count == 0)
        {
            return false;
        }

        // In grain order, as grouped commits are, so two silos creating the same grains wait on each other rather than deadlock.
        var created = commit.Created.OrderBy(c => c.Grain.Type, StringComparer.Ordinal).ThenBy(c => c.Grain.Key, StringComparer.Ordinal).ToList();

        var insert = Add(batch, """
            INSERT INTO cp_grains (grain_type, grain_key, version, state, updated_at, recent_turns)
            SELECT c.grain_type, c.grain_key, 1, c.state, $4, ARRAY[$5::uuid]
            FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS c (grain_type, grain_key, state)
            ON CONFLICT DO NOTHING
            RETURNING recent_turns[1] AS created_by, grain_type AS created_type, grain_key AS created_key
            """,
            created.Select(c => c.Grain.Type).ToArray(),
            created.Select(c => c.Grain.Key).ToArray(),
            created.Select(c => c.StateJson).ToArray(),
            now,
            commit.TurnId);
        insert.Parameters[2].NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb;

        var reminders = created.SelectMany(c => c.Reminders.Where(r => r.DueAt is not null).Select(r => (c.Grain, Change: r))).ToList();
        if (reminders.Count > 0)
        {
            Add(batch, """
                INSERT INTO cp_reminders (grain_type, grain_key, name, due_at, period_ms)
                SELECT r.grain_type, r.grain_key, r.name, r.due_at, r.period_ms
                FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::bigint[]) AS r (grain_type, grain_key, name, due_at, period_ms)
                WHERE EXISTS (SELECT 1 FROM cp_grains g WHERE g.grain_type = r.grain_type AND g.grain_key = r.grain_key AND g.version = 1 AND g.recent_turns[1] = $6 OFFSET 0)
                ON CONFLICT (grain_type, grain_key, name) DO UPDATE
                SET due_at = excluded.due_at, period_ms = excluded.period_ms, lease_owner = NULL, lease_until = NULL
                """,
                reminders.Select(r => r.Grain.Type).ToArray(),
                reminders.Select(r => r.Grain.Key).ToArray(),
                reminders.Select(r => r.Change.Name).ToArray(),
                reminders.Select(r => r.Change.DueAt!.Value.ToUniversalTime()).ToArray(),
                reminders.Select(r => PeriodMs(r.Change.Period)).ToArray(),
                commit.TurnId);
        }

        foreach (var group in created.Where(c => c.Projection is not null).GroupBy(c => (c.Grain.Type, c.Projection!.Projection)))
        {
            var rows = group.Select(c => c.Projection!).ToList();
            var projection = group.Key.Projection;
            var command = new NpgsqlBatchCommand(createdProjectionSql.GetOrAdd(projection, BuildCreatedProjectionSql));
            command.Parameters.Add(new NpgsqlParameter { Value = rows.Select(r => r.Key).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            for (var i = 0; i < projection.Columns.Count; i++)
            {
                command.Parameters.Add(ProjectionArrayParameter(projection.Columns[i].Type, rows.Select(r => r.Values[i]).ToList()));
            }

            command.Parameters.Add(new NpgsqlParameter { Value = group.Key.Type });
            command.Parameters.Add(new NpgsqlParameter { Value = commit.TurnId });
            batch.BatchCommands.Add(command);
        }

        return true;
    }

    /// <summary>
    /// Commits a turn. Turns that arrive while <see cref="MaxCommitsInFlight"/> commits are on their way
    /// are committed together, as one transaction (one round trip, one WAL flush), in grain order so two
    /// silos' groups cannot deadlock. If the group fails for any reason but a lost connection, each of its
    /// turns is committed alone, so a conflict or error answers only the turn it belongs to.
    /// </summary>
    public Task<long> CommitAsync(TurnCommit commit, CancellationToken ct)
    {
        var pending = new PendingCommit(commit);
        bool start;
        lock (commitGate)
        {
            waitingCommits.Add(pending);
            start = commitsInFlight < MaxCommitsInFlight;
            if (start)
            {
                commitsInFlight++;
            }
        }

        if (start)
        {
            _ = RunCommitsAsync();
        }

        return pending.Completion.Task;
    }

    // Measured with the API bench (32 callers creating invoices, 2 cores): 4 left a tenth of the machine idle while
    // requests waited for a WAL flush; 16 made groups so small that PostgreSQL's CPU per creation rose by a third.
    private const int MaxCommitsInFlight = 8;
    private const int MaxCommitGroup = 64;

    private async Task RunCommitsAsync()
    {
        while (true)
        {
            List<PendingCommit> group;
            lock (commitGate)
            {
                if (waitingCommits.Count == 0)
                {
                    commitsInFlight--;
                    return;
                }

                var take = Math.Min(waitingCommits.Count, MaxCommitGroup);
                group = waitingCommits.GetRange(0, take);
                waitingCommits.RemoveRange(0, take);
            }

            if (group.Count == 1 || !await TryCommitGroupAsync(group).ConfigureAwait(false))
            {
                await Task.WhenAll(group.Select(CommitAloneAsync)).ConfigureAwait(false);
            }
        }
    }

    private async Task CommitAloneAsync(PendingCommit pending)
    {
        try
        {
            pending.Completion.TrySetResult(await CommitOneAsync(pending.Commit, CancellationToken.None).ConfigureAwait(false));
        }
        catch (Exception ex)
        {
            pending.Completion.TrySetException(ex);
        }
    }

    /// <summary>False when the group must be committed turn by turn (a conflict or error in one of them rolled all back).</summary>
    private async Task<bool> TryCommitGroupAsync(List<PendingCommit> group)
    {
        group.Sort((a, b) => string.CompareOrdinal(a.Commit.Grain.Type, b.Commit.Grain.Type) is var byType and not 0
            ? byType
            : string.CompareOrdinal(a.Commit.Grain.Key, b.Commit.Grain.Key));
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None).ConfigureAwait(false);
            await using var batch = new NpgsqlBatch(connection);
            var conditional = false;
            foreach (var pending in group)
            {
                conditional |= AddCommit(batch, pending.Commit, grouped: true).Conditional;
            }

            var written = await ExecuteCommitAsync(batch, conditional, CancellationToken.None).ConfigureAwait(false);
            foreach (var pending in group)
            {
                NoteUnsent(pending.Commit, written);
                pending.Completion.TrySetResult(pending.Commit.ExpectedVersion + 1);
            }

            return true;
        }
        catch (Exception ex) when (IsTransient(ex))
        {
            // Outcome unknown for all of them: each turn resolves its own commit by its turn id.
            foreach (var pending in group)
            {
                pending.Completion.TrySetException(ex);
            }

            return true;
        }
        catch (Exception)
        {
            // A conflict or an error of one turn rolled back the whole group: commit them one by one.
            return false;
        }
    }

    private async Task<long> CommitOneAsync(TurnCommit commit, CancellationToken ct)
    {
        await using var connection = await dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection);
        var (stateOnly, conditional) = AddCommit(batch, commit, grouped: false);
        try
        {
            if (stateOnly)
            {
                if (await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false) == 0)
                {
                    throw new ConcurrencyConflictException(ConflictKind.Version, $"{commit.Grain} changed since version {commit.ExpectedVersion}.");
                }
            }
            else
            {
                NoteUnsent(commit, await ExecuteCommitAsync(batch, conditional, ct).ConfigureAwait(false));
            }
        }
        catch (PostgresException ex) when (ex.SqlState == AssertFailed)
        {
            throw ex.MessageText == "message_consumed"
                ? new ConcurrencyConflictException(ConflictKind.MessageConsumed, $"A message handled by the turn on {commit.Grain} was already consumed.")
                : new ConcurrencyConflictException(ConflictKind.Version, $"{commit.Grain} changed since version {commit.ExpectedVersion}.");
        }

        return commit.ExpectedVersion + 1;
    }

    /// <summary>
    /// Runs a commit batch; returns what its conditional statements wrote: the ids of conditional messages (the only
    /// results named id) and the grains created, by the turn that created them.
    /// </summary>
    private static async Task<CommitResults?> ExecuteCommitAsync(NpgsqlBatch batch, bool conditional, CancellationToken ct)
    {
        if (!conditional)
        {
            await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            return null;
        }

        var results = new CommitResults([], []);
        await using var reader = await batch.ExecuteReaderAsync(ct).ConfigureAwait(false);
        do
        {
            while (reader.FieldCount == 1 && reader.GetName(0) == "id" && await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                results.Written.Add(reader.GetGuid(0));
            }

            while (reader.FieldCount == 3 && reader.GetName(0) == "created_by" && await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                results.Created.Add((reader.GetGuid(0), new GrainId(reader.GetString(1), reader.GetString(2))));
            }
        }
        while (await reader.NextResultAsync(ct).ConfigureAwait(false));
        return results;
    }

    private static void NoteUnsent(TurnCommit commit, CommitResults? results)
    {
        if (results is null)
        {
            return;
        }

        commit.Unsent.UnionWith(commit.Outgoing.Where(m => m.OnlyIfTargetExists && !results.Written.Contains(m.Id)).Select(m => m.Id));
        commit.NotCreated.UnionWith(commit.Created.Where(c => !results.Created.Contains((commit.TurnId, c.Grain))).Select(c => c.Grain));
    }

    private sealed record CommitResults(HashSet<Guid> Written, HashSet<(Guid Turn, GrainId Grain)> Created);

    private sealed class PendingCommit(TurnCommit commit)
    {
        public TurnCommit Commit { get; } = commit;

        public TaskCompletionSource<long> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public async Task<CommitResolution> ResolveCommitAsync(GrainId grain, long expectedVersion, Guid turnId, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT version, recent_turns FROM cp_grains WHERE grain_type = $1 AND grain_key = $2");
        AddValues(command.Parameters, grain.Type, grain.Key);
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false)
            ? CommitResolver.Resolve(reader.GetInt64(0), reader.GetFieldValue<Guid[]>(1), expectedVersion, turnId)
            : CommitResolver.Resolve(0, [], expectedVersion, turnId);
    }

    public bool IsTransient(Exception error) => error switch
    {
        PostgresException postgres => postgres.SqlState != AssertFailed && postgres.IsTransient,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is System.IO.IOException or System.Net.Sockets.SocketException,
        TimeoutException or System.IO.IOException or System.Net.Sockets.SocketException => true,
        _ => false,
    };

    public async Task<IReadOnlyList<Guid>> PendingMessagesAsync(IReadOnlyList<Guid> ids, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("SELECT id FROM cp_messages WHERE id = ANY($1)");
        command.Parameters.Add(new() { Value = ids.ToArray() });
        var pending = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            pending.Add(reader.GetGuid(0));
        }

        return pending;
    }

    public async Task<IReadOnlyList<ReminderEntry>> ClaimDueRemindersAsync(string siloId, DateTimeOffset now, TimeSpan lease, int max, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE cp_reminders r SET lease_owner = $1, lease_until = $3
            FROM (SELECT grain_type, grain_key, name FROM cp_reminders
                  WHERE due_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
                  ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED) due
            WHERE r.grain_type = due.grain_type AND r.grain_key = due.grain_key AND r.name = due.name
            RETURNING r.grain_type, r.grain_key, r.name, r.due_at, r.period_ms, r.lease_owner, r.lease_until
            """);
        command.Parameters.Add(new() { Value = siloId });
        command.Parameters.Add(new() { Value = now.ToUniversalTime() });
        command.Parameters.Add(new() { Value = (now + lease).ToUniversalTime() });
        command.Parameters.Add(new() { Value = max });
        return await ReadRemindersAsync(command, ct).ConfigureAwait(false);
    }

    public async Task ReleaseReminderAsync(ReminderEntry reminder, DateTimeOffset retryAt, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE cp_reminders SET due_at = $5, lease_owner = NULL, lease_until = NULL
            WHERE grain_type = $1 AND grain_key = $2 AND name = $3 AND due_at = $4
            """);
        AddValues(command.Parameters, reminder.Grain.Type, reminder.Grain.Key, reminder.Name, reminder.DueAt.ToUniversalTime(), retryAt.ToUniversalTime());
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ReminderEntry>> GetRemindersAsync(GrainId grain, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT grain_type, grain_key, name, due_at, period_ms, lease_owner, lease_until
            FROM cp_reminders WHERE grain_type = $1 AND grain_key = $2 ORDER BY name
            """);
        AddValues(command.Parameters, grain.Type, grain.Key);
        return await ReadRemindersAsync(command, ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<GrainMessage>> ClaimDueMessagesAsync(string siloId, DateTimeOffset now, TimeSpan lease, int max, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE cp_messages m SET lease_owner = $1, lease_until = $3
            FROM (SELECT id FROM cp_messages
                  WHERE due_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
                  ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED) due
            WHERE m.id = due.id
            RETURNING m.id, m.target_type, m.target_key, m.method, m.args::text, m.sender_type, m.sender_key,
                      m.created_at, m.due_at, m.attempts, m.last_error
            """);
        AddValues(command.Parameters, siloId, now.ToUniversalTime(), (now + lease).ToUniversalTime(), max);
        var claimed = new List<GrainMessage>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            claimed.Add(new GrainMessage(
                reader.GetGuid(0),
                new GrainId(reader.GetString(1), reader.GetString(2)),
                reader.GetString(3),
                reader.GetString(4),
                reader.IsDBNull(5) ? null : new GrainId(reader.GetString(5), reader.GetString(6)),
                reader.GetFieldValue<DateTimeOffset>(7),
                reader.GetFieldValue<DateTimeOffset>(8),
                reader.GetInt32(9),
                reader.IsDBNull(10) ? null : reader.GetString(10)));
        }

        return claimed;
    }

    public async Task DeferMessageAsync(Guid id, DateTimeOffset dueAt, string error, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            UPDATE cp_messages SET due_at = $2, attempts = attempts + 1, last_error = $3, lease_owner = NULL, lease_until = NULL
            WHERE id = $1
            """);
        AddValues(command.Parameters, id, dueAt.ToUniversalTime(), error);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task ReleaseLeasesAsync(string siloId, CancellationToken ct)
    {
        await using var batch = dataSource.CreateBatch();
        Add(batch, "UPDATE cp_reminders SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1", siloId);
        Add(batch, "UPDATE cp_messages SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1", siloId);
        await batch.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task HeartbeatAsync(SiloRecord silo, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            INSERT INTO cp_silos (silo_id, host_name, address, roles, started_at, last_heartbeat, status)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (silo_id) DO UPDATE
            SET host_name = excluded.host_name, address = excluded.address, roles = excluded.roles,
                last_heartbeat = excluded.last_heartbeat, status = excluded.status
            """);
        AddValues(command.Parameters, silo.SiloId, silo.HostName, (object?)silo.Address ?? DBNull.Value, silo.Roles.ToArray(),
            silo.StartedAt.ToUniversalTime(), silo.LastHeartbeat.ToUniversalTime(), silo.Status);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<SiloRecord>> ListSilosAsync(CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT silo_id, host_name, address, roles, started_at, last_heartbeat, status FROM cp_silos ORDER BY silo_id");
        var silos = new List<SiloRecord>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            silos.Add(new SiloRecord(
                reader.GetString(0),
                reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.GetFieldValue<string[]>(3),
                reader.GetFieldValue<DateTimeOffset>(4),
                reader.GetFieldValue<DateTimeOffset>(5),
                reader.GetString(6)));
        }

        return silos;
    }

    public async Task<StoreBacklog> GetBacklogAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT (SELECT count(*) FROM cp_reminders WHERE due_at <= $1),
                   (SELECT count(*) FROM cp_messages),
                   (SELECT count(*) FROM cp_messages WHERE due_at <= $1),
                   (SELECT min(due_at) FROM cp_reminders WHERE due_at <= $1),
                   (SELECT min(due_at) FROM cp_messages WHERE due_at <= $1)
            """);
        command.Parameters.Add(new() { Value = now.ToUniversalTime() });
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await reader.ReadAsync(ct).ConfigureAwait(false);
        return new StoreBacklog(
            reader.GetInt64(0),
            reader.GetInt64(1),
            reader.GetInt64(2),
            reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
            reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4));
    }

    private static async Task<IReadOnlyList<ReminderEntry>> ReadRemindersAsync(NpgsqlCommand command, CancellationToken ct)
    {
        var reminders = new List<ReminderEntry>();
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false))
        {
            reminders.Add(new ReminderEntry(
                new GrainId(reader.GetString(0), reader.GetString(1)),
                reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : TimeSpan.FromMilliseconds(reader.GetInt64(4)),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return reminders;
    }

    private static NpgsqlBatchCommand Add(NpgsqlBatch batch, string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        AddValues(command.Parameters, values);
        batch.BatchCommands.Add(command);
        return command;
    }

    private static void AddValues(NpgsqlParameterCollection parameters, params object?[] values)
    {
        foreach (var value in values)
        {
            parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }
    }

    private static long? PeriodMs(TimeSpan? period) => period is { } p ? (long)Math.Ceiling(p.TotalMilliseconds) : null;

    private static string BuildProjectionSql(StateProjection projection)
    {
        var columns = projection.Columns.Select(c => c.Name).ToList();
        var placeholders = Enumerable.Range(2, columns.Count).Select(i => "$" + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var updates = columns.Count == 0 ? "NOTHING" : "UPDATE SET " + string.Join(", ", columns.Select(c => $"{c} = excluded.{c}"));
        return $"INSERT INTO {projection.Table} (grain_key{string.Concat(columns.Select(c => ", " + c))}) " +
               $"VALUES ($1{string.Concat(placeholders.Select(p => ", " + p))}) " +
               $"ON CONFLICT (grain_key) DO {updates}";
    }

    /// <summary>The projection insert for created grains: the rows as arrays, each written only if this turn created its grain.</summary>
    private static string BuildCreatedProjectionSql(StateProjection projection)
    {
        var columns = projection.Columns.Select(c => c.Name).ToList();
        var arrays = projection.Columns.Select((c, i) => $"${i + 2}::{SqlType(c.Type)}[]");
        var type = "$" + (columns.Count + 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var turn = "$" + (columns.Count + 3).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var updates = columns.Count == 0 ? "NOTHING" : "UPDATE SET " + string.Join(", ", columns.Select(c => $"{c} = excluded.{c}"));
        return $"INSERT INTO {projection.Table} (grain_key{string.Concat(columns.Select(c => ", " + c))}) " +
               $"SELECT p.grain_key{string.Concat(columns.Select(c => ", p." + c))} " +
               $"FROM unnest($1::text[]{string.Concat(arrays.Select(a => ", " + a))}) AS p (grain_key{string.Concat(columns.Select(c => ", " + c))}) " +
               $"WHERE EXISTS (SELECT 1 FROM cp_grains g WHERE g.grain_type = {type} AND g.grain_key = p.grain_key AND g.version = 1 AND g.recent_turns[1] = {turn} OFFSET 0) " +
               $"ON CONFLICT (grain_key) DO {updates}";
    }

    /// <summary>One column of several projection rows as a typed array (nulls kept), for <see cref="BuildCreatedProjectionSql"/>.</summary>
    private static NpgsqlParameter ProjectionArrayParameter(ProjectionColumnType type, List<object?> values)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return new NpgsqlParameter
        {
            Value = type switch
            {
                ProjectionColumnType.Text or ProjectionColumnType.Jsonb => values.Select(v => (string?)v).ToArray(),
                ProjectionColumnType.Integer => values.Select(v => v is null ? (int?)null : Convert.ToInt32(v, inv)).ToArray(),
                ProjectionColumnType.BigInt => values.Select(v => v is null ? (long?)null : Convert.ToInt64(v, inv)).ToArray(),
                ProjectionColumnType.Numeric => values.Select(v => v is null ? (decimal?)null : Convert.ToDecimal(v, inv)).ToArray(),
                ProjectionColumnType.Boolean => values.Select(v => (bool?)v).ToArray(),
                ProjectionColumnType.Uuid => values.Select(v => (Guid?)v).ToArray(),
                ProjectionColumnType.TimestampTz => (object)values.Select(v => v is DateTimeOffset time ? time.ToUniversalTime() : (DateTimeOffset?)null).ToArray(),
                _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown projection column type."),
            },
            NpgsqlDbType = NpgsqlDbType.Array | DbTypeOf(type),
        };
    }

    private static NpgsqlParameter ProjectionParameter(ProjectionColumnType type, object? value) => new()
    {
        Value = value switch
        {
            null => DBNull.Value,
            DateTimeOffset time => time.ToUniversalTime(),
            _ => value,
        },
        NpgsqlDbType = DbTypeOf(type),
    };

    private static NpgsqlDbType DbTypeOf(ProjectionColumnType type) => ColumnType(type).Db;

    private static string SqlType(ProjectionColumnType type) => ColumnType(type).Sql;

    /// <summary>A projection column's parameter type and its SQL name, in one place.</summary>
    private static (NpgsqlDbType Db, string Sql) ColumnType(ProjectionColumnType type) => type switch
    {
        ProjectionColumnType.Text => (NpgsqlDbType.Text, "text"),
        ProjectionColumnType.Integer => (NpgsqlDbType.Integer, "integer"),
        ProjectionColumnType.BigInt => (NpgsqlDbType.Bigint, "bigint"),
        ProjectionColumnType.Numeric => (NpgsqlDbType.Numeric, "numeric"),
        ProjectionColumnType.Boolean => (NpgsqlDbType.Boolean, "boolean"),
        ProjectionColumnType.Uuid => (NpgsqlDbType.Uuid, "uuid"),
        ProjectionColumnType.TimestampTz => (NpgsqlDbType.TimestampTz, "timestamptz"),
        ProjectionColumnType.Jsonb => (NpgsqlDbType.Jsonb, "jsonb"),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown projection column type."),
    };
}
