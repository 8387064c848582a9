using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace CryptoPay.Runtime.Execution;

/// <summary>
/// One grain living in one silo: a queue of work run strictly one turn at a time. Each turn ends in
/// an optimistic commit (or, for a turn that changed nothing or threw, a version check), so a turn
/// that raced with another silo is replayed on fresh state and only serial histories ever commit.
/// </summary>
internal sealed class Activation
{
    private readonly Silo silo;
    private readonly GrainTypeInfo type;
    private readonly Grain grain;
    private readonly GrainContext context;
    // Work waiting for its turn, guarded by the gate. An idle activation holds no task, channel or buffer: a drain
    // runs only while there is work (one at a time: running), so a silo can keep many idle activations cheaply.
    private readonly Queue<WorkItem> inbox = new();
    private bool running;
    private readonly Lock gate = new();
    private readonly JsonSerializerOptions json;
    private long version = -1;
    private DateTimeOffset validatedAt = DateTimeOffset.MinValue;

    /// <summary>The change feed's connection under which the confirmation at <see cref="validatedAt"/> started (0: none).</summary>
    private long validatedUnder;
    private byte[] committedJson = "{}"u8.ToArray();
    private int pending;
    private bool closed;
    private bool stateLent;
    private long reportedVersion;
    private SharedAnswer? sharedAnswer;

    /// <summary>The last answer of a shared cached read and the version it was computed from.</summary>
    private sealed record SharedAnswer(GrainMethod Method, long Version, object? Value);
    private StoredGrain? seed;
    private DateTimeOffset seededAt;

    /// <param name="seed">
    /// The grain's stored row when the caller knows it (a grain this silo's turn just created) and the time it was known
    /// current (the creating commit's), so the first turn reads nothing.
    /// </param>
    public Activation(Silo silo, GrainId id, GrainTypeInfo type, (StoredGrain Row, DateTimeOffset KnownAt)? seed = null)
    {
        (this.seed, seededAt) = seed is { } known ? (known.Row, known.KnownAt) : (null, default);
        this.silo = silo;
        this.type = type;
        json = silo.Json;
        context = new GrainContext(id, silo);
        grain = (Grain)ActivatorUtilities.CreateInstance(silo.Services, type.Implementation);
        grain.Attach(context);
        LastUsed = silo.TimeProvider.GetUtcNow();
    }

    public GrainId Id => context.Id;

    public DateTimeOffset LastUsed { get; private set; }

    public bool TryEnqueue(WorkItem item)
    {
        lock (gate)
        {
            if (closed)
            {
                return false;
            }

            pending++;
            LastUsed = silo.TimeProvider.GetUtcNow();
            inbox.Enqueue(item);
            if (running)
            {
                return true;
            }

            running = true;
        }

        // The drain runs on the thread pool without the caller's execution context, as a turn never belongs to its caller.
        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Run(DrainAsync);
        }

        return true;
    }

    /// <summary>The store's change feed reported that a commit wrote <paramref name="changedVersion"/> of this grain.</summary>
    public void NoteChanged(long changedVersion)
    {
        long seen;
        while (changedVersion > (seen = Volatile.Read(ref reportedVersion)) &&
               Interlocked.CompareExchange(ref reportedVersion, changedVersion, seen) != seen)
        {
        }
    }

    /// <summary>
    /// Answers a shared cached read on the caller's thread, without a turn: only when no turn is running or
    /// queued (so every change this silo made is in the state the answer came from) and that state is known
    /// current within the method's max age.
    /// </summary>
    public bool TryAnswerShared(GrainMethod method, out object? value)
    {
        lock (gate)
        {
            var now = silo.TimeProvider.GetUtcNow();
            if (!closed && pending == 0 && sharedAnswer is { } answer && ReferenceEquals(answer.Method, method) &&
                answer.Version == version && IsKnownCurrent(method.CachedReadMaxAge!.Value, now))
            {
                LastUsed = now;
                value = answer.Value;
                silo.Metrics.CachedReadFromMemory();
                return true;
            }
        }

        value = null;
        return false;
    }

    /// <summary>
    /// True when the state is known current as of at most <paramref name="maxAge"/> ago: confirmed since, or
    /// confirmed earlier with the change feed caught up since and no change of this grain reported. A copy of a
    /// grain that did not exist yet is trusted for its max age only (creations are not announced).
    /// </summary>
    private bool IsKnownCurrent(TimeSpan maxAge, DateTimeOffset now)
    {
        // The feed's progress first, then the reported version: a change is reported before the feed is caught up past it.
        var asOf = version > 0 ? silo.Changes.CurrentAsOf(validatedAt, validatedUnder, now) : validatedAt;
        return Volatile.Read(ref reportedVersion) <= version && now - asOf <= maxAge;
    }

    /// <summary>Closes the activation if it has no work; later work goes to a fresh activation.</summary>
    public bool TryClose(bool force)
    {
        lock (gate)
        {
            if (closed)
            {
                return true;
            }

            if (pending > 0 && !force)
            {
                return false;
            }

            // Work already queued still runs; nothing new is accepted.
            closed = true;
            return true;
        }
    }

    private void Finished(int count)
    {
        lock (gate)
        {
            pending -= count;
        }

        silo.WorkFinished(count);
    }

    /// <summary>Runs the queued work strictly one turn at a time until the queue is empty, then ends.</summary>
    private async Task DrainAsync()
    {
        List<MessageWork>? batch = null;
        while (true)
        {
            WorkItem? item;
            lock (gate)
            {
                if (!inbox.TryDequeue(out item))
                {
                    running = false;
                    return;
                }
            }

            switch (item)
            {
                case CallWork call:
                    await RunCallAsync(call).ConfigureAwait(false);
                    Finished(1);
                    break;
                case ReminderWork reminder:
                    await RunReminderAsync(reminder).ConfigureAwait(false);
                    Finished(1);
                    break;
                case MessageWork message:
                    batch ??= [];
                    batch.Clear();
                    batch.Add(message);
                    lock (gate)
                    {
                        while (batch.Count < silo.Options.MessageBatchSize && inbox.TryPeek(out var next) && next is MessageWork more)
                        {
                            inbox.Dequeue();
                            batch.Add(more);
                        }
                    }

                    await RunMessagesAsync(batch).ConfigureAwait(false);
                    Finished(batch.Count);
                    break;
            }
        }
    }

    private async Task RunCallAsync(CallWork call)
    {
        try
        {
            if (call.AssumeNew && version < 0)
            {
                Apply(new StoredGrain(0, null));
            }

            var result = await ExecuteAsync(
                (_, _) => call.Method.InvokeAsync(grain, call.Args),
                fired: null,
                firedNext: null,
                consumed: [],
                call.Method.CachedReadMaxAge).ConfigureAwait(false);
            if (call.Method.SharesAnswer)
            {
                // Immutable, computed from the state of this version: later callers may share it.
                sharedAnswer = result.Shared ? new SharedAnswer(call.Method, version, result.Value) : null;
                call.Completion.TrySetResult(result.Value);
                return;
            }

            call.Completion.TrySetResult(Hand(call.Method, result.Value));
        }
        catch (Exception ex)
        {
            call.Completion.TrySetException(ex);
        }
    }

    /// <summary>
    /// The caller's copy of a result. A result that is the grain's whole state is handed over as it is
    /// (saving a serialize-and-parse copy): the activation stops using that object and its next turn
    /// starts from the committed text instead, so the caller still never shares live state.
    /// </summary>
    private object? Hand(GrainMethod method, object? value)
    {
        if (value is not null && ReferenceEquals(value, grain.StateObject) && method.ResultType is { } resultType && resultType.IsInstanceOfType(value))
        {
            stateLent = true;
            return value;
        }

        return method.CopyResult(value, json);
    }

    /// <summary>Takes a fresh state object from the committed text when the last one was handed to a caller.</summary>
    private void ReclaimState()
    {
        if (stateLent)
        {
            grain.RestoreState(committedJson, json);
            stateLent = false;
        }
    }

    private async Task RunReminderAsync(ReminderWork work)
    {
        try
        {
            var method = type.ReminderMethod ?? throw new GrainUsageException($"Grain {Id} has a reminder but does not implement IRemindable.");
            var reminder = work.Reminder;
            var now = silo.TimeProvider.GetUtcNow();
            DateTimeOffset? next = reminder.Period is { } period ? NextDue(reminder.DueAt, period, now) : null;
            var tick = new ReminderTick(reminder.DueAt, reminder.Period, now);
            await ExecuteAsync(
                (_, _) => method.InvokeAsync(grain, [reminder.Name, tick]),
                fired: reminder,
                firedNext: next,
                consumed: []).ConfigureAwait(false);
            work.Completion.TrySetResult();
        }
        catch (Exception ex)
        {
            work.Completion.TrySetException(ex);
        }
    }

    /// <summary>The first multiple of the period after now: a late reminder fires once, then keeps its rhythm.</summary>
    internal static DateTimeOffset NextDue(DateTimeOffset due, TimeSpan period, DateTimeOffset now)
    {
        var behind = now - due;
        var periods = behind < TimeSpan.Zero ? 1 : (behind.Ticks / period.Ticks) + 1;
        return due + TimeSpan.FromTicks(period.Ticks * periods);
    }

    private async Task RunMessagesAsync(List<MessageWork> batch)
    {
        var live = batch.ToList();
        while (live.Count > 0)
        {
            try
            {
                var messages = live.Select(w => w.Message).ToList();
                var outcome = await ExecuteAsync(
                    (turn, pendingIds) => HandleMessagesAsync(turn, messages.Where(m => pendingIds.Contains(m.Id))),
                    fired: null,
                    firedNext: null,
                    consumed: messages.Select(m => m.Id).ToList()).ConfigureAwait(false);
                if (outcome.Dropped is { Count: > 0 } dropped)
                {
                    foreach (var work in live.Where(w => dropped.Contains(w.Message.Id)))
                    {
                        work.Completion.TrySetResult(DeliveryOutcome.AlreadyConsumed);
                    }
                }

                foreach (var work in live.Where(w => outcome.Dropped is null || !outcome.Dropped.Contains(w.Message.Id)))
                {
                    work.Completion.TrySetResult(DeliveryOutcome.Delivered);
                }

                return;
            }
            catch (Exception ex) when (live.Count > 1 && ex is not SiloUnavailableException)
            {
                // One message of the batch failed: nothing of the batch committed. Deliver them one by one
                // so the healthy ones commit and only the failing one is retried later.
                foreach (var single in live)
                {
                    await RunMessagesAsync([single]).ConfigureAwait(false);
                }

                return;
            }
            catch (Exception ex)
            {
                foreach (var work in live)
                {
                    work.Completion.TrySetException(ex);
                }

                return;
            }
        }
    }

    private async Task<object?> HandleMessagesAsync(TurnContext turn, IEnumerable<GrainMessage> messages)
    {
        foreach (var message in messages)
        {
            var method = type.GetMethod(message.Method);
            var args = DecodeArguments(method, message.ArgsJson);
            turn.CurrentMessage = message;
            await method.InvokeAsync(grain, args).ConfigureAwait(false);
        }

        turn.CurrentMessage = null;
        return null;
    }

    private object?[] DecodeArguments(GrainMethod method, string argsJson)
    {
        // Reads the argument array in one pass, each element straight into its parameter's type.
        var parameters = method.ParameterTypes;
        var args = new object?[parameters.Length];
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(argsJson));
        var count = 0;
        if (!reader.Read() || reader.TokenType == JsonTokenType.Null)
        {
            count = 0;
        }
        else if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException($"Message for {type.Name}.{method.Name}: arguments are not a JSON array.");
        }
        else
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                if (count < parameters.Length)
                {
                    args[count] = JsonSerializer.Deserialize(ref reader, parameters[count], json);
                }
                else
                {
                    reader.Skip();
                }

                count++;
            }
        }

        if (count != parameters.Length)
        {
            throw new GrainUsageException($"Message for {type.Name}.{method.Name} has {count} arguments; the method takes {parameters.Length}.");
        }

        return args;
    }

    /// <summary>A turn's answer; <paramref name="Shared"/>: the turn changed nothing and its state was known current.</summary>
    private readonly record struct TurnOutcome(object? Value, IReadOnlyCollection<Guid>? Dropped, bool Shared = false);

    private async Task<TurnOutcome> ExecuteAsync(
        Func<TurnContext, IReadOnlyCollection<Guid>, Task<object?>> body,
        ReminderEntry? fired,
        DateTimeOffset? firedNext,
        List<Guid> consumed,
        TimeSpan? cachedReadMaxAge = null)
    {
        HashSet<Guid>? dropped = null;
        for (var attempt = 1; ; attempt++)
        {
            silo.EnsureAlive();
            await EnsureLoadedAsync().ConfigureAwait(false);
            ReclaimState();
            var turn = new TurnContext(Id, silo.TimeProvider);
            context.CurrentTurn = turn;
            object? result = null;
            ExceptionDispatchInfo? error = null;
            try
            {
                result = await body(turn, consumed).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                error = ExceptionDispatchInfo.Capture(ex);
            }
            finally
            {
                turn.Close();
                context.CurrentTurn = null;
            }

            if (error is not null)
            {
                // A throwing turn leaves nothing behind, but its answer counts only if it saw current state.
                grain.RestoreState(committedJson, json);
                if (await RefreshIfStaleAsync().ConfigureAwait(false))
                {
                    continue;
                }

                error.Throw();
            }

            var stateUtf8 = grain.SerializeState(json);
            var changed = !stateUtf8.AsSpan().SequenceEqual(committedJson);
            if (!changed && !turn.HasEffects && fired is null && consumed.Count == 0)
            {
                if (cachedReadMaxAge is { } maxAge && turn.AfterCommitActions.Count == 0 && IsKnownCurrent(maxAge, silo.TimeProvider.GetUtcNow()))
                {
                    silo.Metrics.CachedReadFromMemory();
                    return new TurnOutcome(result, dropped, Shared: true);
                }

                if (await RefreshIfStaleAsync().ConfigureAwait(false))
                {
                    continue;
                }

                RunAfterCommit(turn);
                return new TurnOutcome(result, dropped, Shared: turn.AfterCommitActions.Count == 0);
            }

            var commitUnder = silo.Changes.Connection;
            var commit = new TurnCommit
            {
                Grain = Id,
                ExpectedVersion = version,
                StateJson = Encoding.UTF8.GetString(stateUtf8),
                SiloId = silo.SiloId,
                Now = silo.TimeProvider.GetUtcNow(),
                Reminders = turn.Reminders,
                FiredReminder = fired,
                FiredReminderNextDue = firedNext,
                Outgoing = turn.Outgoing,
                OutgoingLease = silo.Options.MessageLease,
                Consumed = consumed,
                Projection = changed && type.Projection is { } projection
                    ? new ProjectionRow(projection, Id.Key, projection.Project(grain.StateObject!))
                    : null,
                AnnounceChange = changed && version > 0 && type.AnnouncesChanges,
                Created = turn.Creations.Count == 0 ? [] : [.. turn.Creations.Select(c => c.Creation)],
            };
            var creationsKnown = true;

            try
            {
                silo.EnsureAlive();
                version = await silo.Store.CommitAsync(commit, CancellationToken.None).ConfigureAwait(false);
                committedJson = stateUtf8;
                validatedAt = commit.Now;
                validatedUnder = commitUnder;
            }
            catch (ConcurrencyConflictException conflict)
            {
                grain.RestoreState(committedJson, json);
                if (conflict.Kind == ConflictKind.MessageConsumed)
                {
                    var pendingIds = consumed;
                    var stillPending = await silo.WithStoreRetryAsync(() => silo.Store.PendingMessagesAsync(pendingIds, CancellationToken.None)).ConfigureAwait(false);
                    dropped ??= [];
                    dropped.UnionWith(consumed.Except(stillPending));
                    consumed = [.. stillPending];
                    if (consumed.Count == 0)
                    {
                        return new TurnOutcome(null, dropped);
                    }
                }

                await RefreshIfStaleAsync().ConfigureAwait(false);
                if (attempt >= silo.Options.MaxConflictRetries)
                {
                    throw new TurnConflictException($"Turn on {Id} lost {attempt} optimistic races in a row.");
                }

                await ConflictBackoffAsync(attempt).ConfigureAwait(false);
                continue;
            }
            catch (Exception failure) when (silo.Store.IsTransient(failure))
            {
                // The connection died around COMMIT: look the turn up by its id once the store is back.
                grain.RestoreState(committedJson, json);
                var resolution = await silo.WithStoreRetryAsync(
                    () => silo.Store.ResolveCommitAsync(Id, commit.ExpectedVersion, commit.TurnId, CancellationToken.None)).ConfigureAwait(false);
                if (resolution == CommitResolution.NotCommitted)
                {
                    await RefreshIfStaleAsync().ConfigureAwait(false);
                    continue;
                }

                version = -1;
                creationsKnown = false;
                if (resolution == CommitResolution.Unknown)
                {
                    throw new TurnOutcomeUnknownException($"The commit of a turn on {Id} failed ({failure.Message}) and its outcome cannot be determined.", failure);
                }
            }
            catch
            {
                // Not a transient failure: the commit did not happen; forget the cache to be safe.
                version = -1;
                grain.RestoreState(committedJson, json);
                throw;
            }

            silo.Metrics.TurnCommitted();
            RunAfterCommit(turn, creationsKnown ? commit.NotCreated : null, commit.Now);
            if (commit.Outgoing.Count > 0)
            {
                await silo.AfterCommitAsync(commit).ConfigureAwait(false);
            }

            return new TurnOutcome(result, dropped);
        }
    }

    /// <summary>Runs the turn's after-commit actions, then those of the grains it created (<paramref name="notCreated"/> null: unknown which).</summary>
    private void RunAfterCommit(TurnContext turn, HashSet<GrainId>? notCreated = null, DateTimeOffset committedAt = default)
    {
        // Most turns create nothing: this runs on every turn, so it allocates only when there are creations.
        var creations = notCreated is null || turn.Creations.Count == 0 ? null : turn.Creations.Where(c => !notCreated.Contains(c.Creation.Grain)).ToList();
        if (creations is not null)
        {
            foreach (var (creation, _) in creations)
            {
                silo.Seed(creation, committedAt);
            }
        }

        foreach (var action in turn.AfterCommitActions)
        {
            RunAfterCommitAction(action);
        }

        foreach (var whenCreated in creations?.Select(c => c.WhenCreated).OfType<Action>() ?? [])
        {
            RunAfterCommitAction(whenCreated);
        }
    }

    private void RunAfterCommitAction(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            // The turn has committed; a failing follow-up must not turn its success into an error.
            silo.Logger.LogError(ex, "An after-commit action of a turn on {Grain} failed", Id);
        }
    }

    private async Task EnsureLoadedAsync()
    {
        if (version >= 0)
        {
            return;
        }

        if (seed is { } known)
        {
            // The seed is the text the creator's commit stored, serialized with these options: it is the committed text.
            seed = null;
            stateLent = false;
            version = known.Version;
            grain.RestoreState(known.StateJson, json);
            committedJson = known.StateJson is { } storedText ? Encoding.UTF8.GetBytes(storedText) : grain.SerializeState(json);

            // Confirmed by the creating commit, not under any change-feed connection: trusted for a cached read's max age only.
            validatedAt = seededAt;
            validatedUnder = 0;
            return;
        }

        var readAt = silo.TimeProvider.GetUtcNow();
        var readUnder = silo.Changes.Connection;
        var stored = await silo.WithStoreRetryAsync(() => silo.Reads.ReadAsync(Id, -1)).ConfigureAwait(false);
        Apply(stored);
        validatedAt = readAt;
        validatedUnder = readUnder;
    }

    /// <summary>True (after loading the new state) when another silo committed since this activation's version.</summary>
    private async Task<bool> RefreshIfStaleAsync()
    {
        var readAt = silo.TimeProvider.GetUtcNow();
        var readUnder = silo.Changes.Connection;
        var stored = await silo.WithStoreRetryAsync(() => silo.Reads.ReadAsync(Id, version)).ConfigureAwait(false);
        validatedAt = readAt;
        validatedUnder = readUnder;
        if (stored.Version == version)
        {
            return false;
        }

        Apply(stored);
        return true;
    }

    private void Apply(StoredGrain stored)
    {
        stateLent = false;
        version = stored.Version;
        grain.RestoreState(stored.StateJson, json);
        committedJson = grain.SerializeState(json);
    }

    private static async Task ConflictBackoffAsync(int attempt)
    {
        if (attempt < 3)
        {
            await Task.Yield();
            return;
        }

        await Task.Delay(Random.Shared.Next(1, Math.Min(attempt, 20))).ConfigureAwait(false);
    }
}
