using CryptoPay.Runtime.Grains;

namespace CryptoPay.Runtime.Storage;

/// <summary>
/// The single source of truth of the cluster: grain state with versions, reminders, the message
/// outbox and membership. Both implementations pass the same conformance suite.
/// Every time is passed in by the caller (from its TimeProvider), never taken from the store's clock.
/// </summary>
public interface IGrainStore
{
    string Name { get; }

    /// <summary>Creates or migrates the schema. Safe when several silos start at once.</summary>
    Task InitializeAsync(CancellationToken ct);

    /// <summary>Reads a grain; when its version equals <paramref name="knownVersion"/> the state is omitted.</summary>
    Task<StoredGrain> ReadAsync(GrainId grain, long knownVersion, CancellationToken ct);

    /// <summary>
    /// <see cref="ReadAsync"/> for several grains at once, answered in the order asked. A store that can
    /// reads them in one round trip; the silo gathers concurrent reads of its activations into one call.
    /// </summary>
    async Task<IReadOnlyList<StoredGrain>> ReadManyAsync(IReadOnlyList<GrainRead> reads, CancellationToken ct)
    {
        var results = new StoredGrain[reads.Count];
        for (var i = 0; i < reads.Count; i++)
        {
            results[i] = await ReadAsync(reads[i].Grain, reads[i].KnownVersion, ct).ConfigureAwait(false);
        }

        return results;
    }

    /// <summary>Commits a turn atomically and returns the new version; throws <see cref="ConcurrencyConflictException"/> on a lost race.</summary>
    Task<long> CommitAsync(TurnCommit commit, CancellationToken ct);

    /// <summary>After a transient failure of <see cref="CommitAsync"/>: did that commit (by its turn id) take effect?</summary>
    Task<CommitResolution> ResolveCommitAsync(GrainId grain, long expectedVersion, Guid turnId, CancellationToken ct);

    /// <summary>True for failures worth retrying after a pause: lost connections, a restarting server.</summary>
    bool IsTransient(Exception error);

    /// <summary>Of the given message ids, those still waiting in the outbox.</summary>
    Task<IReadOnlyList<Guid>> PendingMessagesAsync(IReadOnlyList<Guid> ids, CancellationToken ct);

    /// <summary>Claims reminders due at <paramref name="now"/> whose lease is free, oldest first, leasing them to the silo.</summary>
    Task<IReadOnlyList<ReminderEntry>> ClaimDueRemindersAsync(string siloId, DateTimeOffset now, TimeSpan lease, int max, CancellationToken ct);

    /// <summary>Gives a claimed reminder back after a failed firing; it is due again at <paramref name="retryAt"/>.</summary>
    Task ReleaseReminderAsync(ReminderEntry reminder, DateTimeOffset retryAt, CancellationToken ct);

    Task<IReadOnlyList<ReminderEntry>> GetRemindersAsync(GrainId grain, CancellationToken ct);

    /// <summary>Claims outbox messages that are due and not leased, leasing them to the silo.</summary>
    Task<IReadOnlyList<GrainMessage>> ClaimDueMessagesAsync(string siloId, DateTimeOffset now, TimeSpan lease, int max, CancellationToken ct);

    /// <summary>Records a failed delivery; the message is due again at <paramref name="dueAt"/>.</summary>
    Task DeferMessageAsync(Guid id, DateTimeOffset dueAt, string error, CancellationToken ct);

    /// <summary>Frees every lease a silo holds (graceful shutdown), so other silos take over at once.</summary>
    Task ReleaseLeasesAsync(string siloId, CancellationToken ct);

    Task HeartbeatAsync(SiloRecord silo, CancellationToken ct);

    Task<IReadOnlyList<SiloRecord>> ListSilosAsync(CancellationToken ct);

    Task<StoreBacklog> GetBacklogAsync(DateTimeOffset now, CancellationToken ct);

    /// <summary>The store's report of announced commits; null when it has none (cached reads then rely on their max age alone).</summary>
    IGrainChangeFeed? ChangeFeed => null;
}
