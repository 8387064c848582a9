using CryptoPay.Runtime.Grains;

namespace CryptoPay.Runtime.Storage.Memory;

/// <summary>
/// The embedded store: everything in process memory under one lock, with exactly the semantics of the
/// PostgreSQL store (the conformance suite runs against both). Data does not survive the process.
/// </summary>
public sealed class MemoryGrainStore : IGrainStore, IGrainChangeFeed
{
    private readonly Lock gate = new();
    private readonly Dictionary<GrainId, (long Version, string State, Guid[] RecentTurns)> grains = [];
    private readonly Dictionary<(GrainId Grain, string Name), ReminderEntry> reminders = [];
    private readonly Dictionary<Guid, StoredMessage> messages = [];
    private readonly Dictionary<string, SiloRecord> silos = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, object?[]>> projections = new(StringComparer.Ordinal);
    private readonly List<IGrainChangeListener> listeners = [];

    public string Name => "memory";

    public Task InitializeAsync(CancellationToken ct) => Task.CompletedTask;

    public Task<StoredGrain> ReadAsync(GrainId grain, long knownVersion, CancellationToken ct)
    {
        lock (gate)
        {
            if (!grains.TryGetValue(grain, out var row))
            {
                return Task.FromResult(new StoredGrain(0, null));
            }

            return Task.FromResult(new StoredGrain(row.Version, row.Version == knownVersion ? null : row.State));
        }
    }

    public Task<long> CommitAsync(TurnCommit commit, CancellationToken ct)
    {
        lock (gate)
        {
            // Check everything first so a failed commit changes nothing.
            var current = grains.TryGetValue(commit.Grain, out var row) ? row.Version : 0;
            if (current != commit.ExpectedVersion)
            {
                throw new ConcurrencyConflictException(ConflictKind.Version, $"{commit.Grain} is at version {current}, the turn started at {commit.ExpectedVersion}.");
            }

            foreach (var id in commit.Consumed)
            {
                if (!messages.ContainsKey(id))
                {
                    throw new ConcurrencyConflictException(ConflictKind.MessageConsumed, $"Message {id} was already consumed.");
                }
            }

            var version = current + 1;
            if (commit.AnnounceChange)
            {
                // Reported inside the lock: no one can see the new version before every listener has.
                foreach (var listener in listeners)
                {
                    listener.Changed(commit.Grain, version);
                }
            }

            Guid[] recent = [commit.TurnId, .. (row.RecentTurns ?? []).Take(TurnCommit.RecentTurnsKept - 1)];
            grains[commit.Grain] = (version, commit.StateJson, recent);
            foreach (var id in commit.Consumed)
            {
                messages.Remove(id);
            }

            foreach (var creation in commit.Created)
            {
                if (grains.ContainsKey(creation.Grain))
                {
                    commit.NotCreated.Add(creation.Grain);
                    continue;
                }

                grains[creation.Grain] = (1, creation.StateJson, [commit.TurnId]);
                foreach (var change in creation.Reminders)
                {
                    if (change.DueAt is { } due)
                    {
                        reminders[(creation.Grain, change.Name)] = new ReminderEntry(creation.Grain, change.Name, due, change.Period);
                    }
                }

                if (creation.Projection is { } created)
                {
                    Project(created);
                }
            }

            if (commit.FiredReminder is { } fired &&
                reminders.TryGetValue((commit.Grain, fired.Name), out var claimed) &&
                claimed.DueAt == fired.DueAt)
            {
                if (commit.FiredReminderNextDue is { } next)
                {
                    reminders[(commit.Grain, fired.Name)] = claimed with { DueAt = next, LeaseOwner = null, LeaseUntil = null };
                }
                else
                {
                    reminders.Remove((commit.Grain, fired.Name));
                }
            }

            foreach (var change in commit.Reminders)
            {
                if (change.DueAt is { } due)
                {
                    reminders[(commit.Grain, change.Name)] = new ReminderEntry(commit.Grain, change.Name, due, change.Period);
                }
                else
                {
                    reminders.Remove((commit.Grain, change.Name));
                }
            }

            foreach (var message in commit.Outgoing)
            {
                if (message.OnlyIfTargetExists && !grains.ContainsKey(message.Target))
                {
                    commit.Unsent.Add(message.Id);
                    continue;
                }

                messages[message.Id] = new StoredMessage(message, commit.SiloId, commit.Now + commit.OutgoingLease);
            }

            if (commit.Projection is { } projection)
            {
                Project(projection);
            }

            return Task.FromResult(version);
        }
    }

    public IGrainChangeFeed ChangeFeed => this;

    /// <summary>Reports announced commits synchronously, inside the commit, for as long as the listener runs.</summary>
    public async Task RunAsync(IGrainChangeListener listener, TimeProvider time, TimeSpan probeInterval, CancellationToken ct)
    {
        lock (gate)
        {
            listeners.Add(listener);
            listener.Connected(time.GetUtcNow(), synchronous: true);
        }

        try
        {
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (gate)
            {
                listeners.Remove(listener);
                listener.Disconnected();
            }
        }
    }

    private void Project(ProjectionRow row)
    {
        if (!projections.TryGetValue(row.Projection.Table, out var table))
        {
            projections[row.Projection.Table] = table = new Dictionary<string, object?[]>(StringComparer.Ordinal);
        }

        table[row.Key] = row.Values;
    }

    public Task<CommitResolution> ResolveCommitAsync(GrainId grain, long expectedVersion, Guid turnId, CancellationToken ct)
    {
        lock (gate)
        {
            var found = grains.TryGetValue(grain, out var row);
            return Task.FromResult(CommitResolver.Resolve(found ? row.Version : 0, found ? row.RecentTurns : [], expectedVersion, turnId));
        }
    }

    /// <summary>Nothing in memory fails transiently.</summary>
    public bool IsTransient(Exception error) => false;

    public Task<IReadOnlyList<Guid>> PendingMessagesAsync(IReadOnlyList<Guid> ids, CancellationToken ct)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<Guid>>(ids.Where(messages.ContainsKey).ToList());
        }
    }

    public Task<IReadOnlyList<ReminderEntry>> ClaimDueRemindersAsync(string siloId, DateTimeOffset now, TimeSpan lease, int max, CancellationToken ct)
    {
        lock (gate)
        {
            var claimed = reminders.Values
                .Where(r => r.DueAt <= now && (r.LeaseUntil is null || r.LeaseUntil <= now))
                .OrderBy(r => r.DueAt)
                .Take(max)
                .Select(r => r with { LeaseOwner = siloId, LeaseUntil = now + lease })
                .ToList();
            foreach (var reminder in claimed)
            {
                reminders[(reminder.Grain, reminder.Name)] = reminder;
            }

            return Task.FromResult<IReadOnlyList<ReminderEntry>>(claimed);
        }
    }

    public Task ReleaseReminderAsync(ReminderEntry reminder, DateTimeOffset retryAt, CancellationToken ct)
    {
        lock (gate)
        {
            if (reminders.TryGetValue((reminder.Grain, reminder.Name), out var current) && current.DueAt == reminder.DueAt)
            {
                reminders[(reminder.Grain, reminder.Name)] = current with { DueAt = retryAt, LeaseOwner = null, LeaseUntil = null };
            }

            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<ReminderEntry>> GetRemindersAsync(GrainId grain, CancellationToken ct)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<ReminderEntry>>(reminders.Values.Where(r => r.Grain == grain).OrderBy(r => r.Name, StringComparer.Ordinal).ToList());
        }
    }

    public Task<IReadOnlyList<GrainMessage>> ClaimDueMessagesAsync(string siloId, DateTimeOffset now, TimeSpan lease, int max, CancellationToken ct)
    {
        lock (gate)
        {
            var claimed = messages.Values
                .Where(m => m.Message.DueAt <= now && (m.LeaseUntil is null || m.LeaseUntil <= now))
                .OrderBy(m => m.Message.DueAt)
                .Take(max)
                .ToList();
            foreach (var stored in claimed)
            {
                messages[stored.Message.Id] = stored with { LeaseOwner = siloId, LeaseUntil = now + lease };
            }

            return Task.FromResult<IReadOnlyList<GrainMessage>>(claimed.Select(m => m.Message).ToList());
        }
    }

    public Task DeferMessageAsync(Guid id, DateTimeOffset dueAt, string error, CancellationToken ct)
    {
        lock (gate)
        {
            if (messages.TryGetValue(id, out var stored))
            {
                messages[id] = new StoredMessage(
                    stored.Message with { DueAt = dueAt, Attempts = stored.Message.Attempts + 1, LastError = error },
                    null,
                    null);
            }

            return Task.CompletedTask;
        }
    }

    public Task ReleaseLeasesAsync(string siloId, CancellationToken ct)
    {
        lock (gate)
        {
            foreach (var reminder in reminders.Values.Where(r => r.LeaseOwner == siloId).ToList())
            {
                reminders[(reminder.Grain, reminder.Name)] = reminder with { LeaseOwner = null, LeaseUntil = null };
            }

            foreach (var stored in messages.Values.Where(m => m.LeaseOwner == siloId).ToList())
            {
                messages[stored.Message.Id] = stored with { LeaseOwner = null, LeaseUntil = null };
            }

            return Task.CompletedTask;
        }
    }

    public Task HeartbeatAsync(SiloRecord silo, CancellationToken ct)
    {
        lock (gate)
        {
            silos[silo.SiloId] = silo;
            return Task.CompletedTask;
        }
    }

    public Task<IReadOnlyList<SiloRecord>> ListSilosAsync(CancellationToken ct)
    {
        lock (gate)
        {
            return Task.FromResult<IReadOnlyList<SiloRecord>>(silos.Values.OrderBy(s => s.SiloId, StringComparer.Ordinal).ToList());
        }
    }

    public Task<StoreBacklog> GetBacklogAsync(DateTimeOffset now, CancellationToken ct)
    {
        lock (gate)
        {
            var due = reminders.Values.Where(r => r.DueAt <= now).ToList();
            var dueMessages = messages.Values.Select(m => m.Message).Where(m => m.DueAt <= now).ToList();
            return Task.FromResult(new StoreBacklog(
                due.Count,
                messages.Count,
                dueMessages.Count,
                due.Count == 0 ? null : due.Min(r => r.DueAt),
                dueMessages.Count == 0 ? null : dueMessages.Min(m => m.DueAt)));
        }
    }

    /// <summary>The projected rows of a table, by grain key: what the PostgreSQL store writes to that table.</summary>
    public IReadOnlyDictionary<string, object?[]> GetProjection(string table)
    {
        lock (gate)
        {
            return projections.TryGetValue(table, out var rows)
                ? new Dictionary<string, object?[]>(rows, StringComparer.Ordinal)
                : new Dictionary<string, object?[]>(StringComparer.Ordinal);
        }
    }

    private sealed record StoredMessage(GrainMessage Message, string? LeaseOwner, DateTimeOffset? LeaseUntil);
}
