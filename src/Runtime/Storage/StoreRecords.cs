using CryptoPay.Runtime.Grains;

namespace CryptoPay.Runtime.Storage;

/// <summary>A grain's stored row. Version 0 means never written. State is null when the caller already holds this version.</summary>
public sealed record StoredGrain(long Version, string? StateJson);

/// <summary>One grain to read and the version the reader holds (its state is omitted while still current); -1 for none.</summary>
public readonly record struct GrainRead(GrainId Grain, long KnownVersion);

/// <summary>A durable reminder row. A claimed reminder carries the claiming silo and its lease.</summary>
public sealed record ReminderEntry(
    GrainId Grain,
    string Name,
    DateTimeOffset DueAt,
    TimeSpan? Period,
    string? LeaseOwner = null,
    DateTimeOffset? LeaseUntil = null);

/// <summary>Set (DueAt given) or delete (DueAt null) a reminder as part of a turn.</summary>
public sealed record ReminderChange(string Name, DateTimeOffset? DueAt, TimeSpan? Period);

/// <summary>A message between grains, kept in the outbox from the sender's commit until the receiving turn commits.</summary>
public sealed record GrainMessage(
    Guid Id,
    GrainId Target,
    string Method,
    string ArgsJson,
    GrainId? Sender,
    DateTimeOffset CreatedAt,
    DateTimeOffset DueAt,
    int Attempts = 0,
    string? LastError = null,
    bool OnlyIfTargetExists = false);

/// <summary>The typed, indexed row a grain type may project its state into (see <see cref="StateProjection{TState}"/>).</summary>
public sealed record ProjectionRow(StateProjection Projection, string Key, object?[] Values);

/// <summary>
/// A grain a turn creates with its commit: written (state at version 1, its reminders, its projection row) only if the
/// grain has no stored state when the commit runs, decided inside the commit's transaction; otherwise nothing of it.
/// </summary>
public sealed record GrainCreation(GrainId Grain, string StateJson, IReadOnlyList<ReminderChange> Reminders, ProjectionRow? Projection);

/// <summary>Everything one turn changes, committed in one transaction or not at all.</summary>
public sealed record TurnCommit
{
    /// <summary>How many recent turn ids a grain row keeps to resolve in-doubt commits.</summary>
    public const int RecentTurnsKept = 8;

    public required GrainId Grain { get; init; }

    /// <summary>Identifies this commit attempt, so its outcome can be looked up after a lost connection.</summary>
    public Guid TurnId { get; init; } = Guid.NewGuid();

    /// <summary>The version the turn started from; the commit fails with a conflict when the stored version differs.</summary>
    public required long ExpectedVersion { get; init; }

    public required string StateJson { get; init; }

    public required string SiloId { get; init; }

    public required DateTimeOffset Now { get; init; }

    public IReadOnlyList<ReminderChange> Reminders { get; init; } = [];

    /// <summary>The reminder this turn fired: it is rescheduled (periodic) or deleted (one-shot) if still as claimed.</summary>
    public ReminderEntry? FiredReminder { get; init; }

    public DateTimeOffset? FiredReminderNextDue { get; init; }

    /// <summary>Messages this turn sends; written leased to the sending silo, which delivers them right after commit.</summary>
    public IReadOnlyList<GrainMessage> Outgoing { get; init; } = [];

    /// <summary>
    /// Filled in by the store as it commits: the ids of <see cref="GrainMessage.OnlyIfTargetExists"/> messages it
    /// did not write because their target had no stored state in the commit's transaction. Never delivered.
    /// </summary>
    public HashSet<Guid> Unsent { get; } = [];

    public TimeSpan OutgoingLease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Messages this turn handled; all must still be pending, and are removed with the commit.</summary>
    public IReadOnlyList<Guid> Consumed { get; init; } = [];

    public ProjectionRow? Projection { get; init; }

    /// <summary>
    /// Report this commit on the store's change feed (<see cref="IGrainChangeFeed"/>): set for changes of existing
    /// grains whose type answers cached reads, so other silos drop their copies instead of trusting them.
    /// </summary>
    public bool AnnounceChange { get; init; }
    /// <summary>Grains this turn creates if they have no stored state yet (see <see cref="GrainCreation"/>).</summary>
    public IReadOnlyList<GrainCreation> Created { get; init; } = [];

    /// <summary>Filled in by the store as it commits: the grains of <see cref="Created"/> it did not write because they already had stored state.</summary>
    public HashSet<GrainId> NotCreated { get; } = [];
}

/// <summary>What became of a commit whose call failed with a transient error.</summary>
public enum CommitResolution
{
    /// <summary>It committed: its effects are in the store.</summary>
    Committed,

    /// <summary>It did not commit: nothing of it is in the store, so the turn may run again.</summary>
    NotCommitted,

    /// <summary>Too many later commits to tell; the caller must not assume either way.</summary>
    Unknown,
}

/// <summary>A turn's commit failed in a way that hides whether it took effect, and the store could not tell afterwards.</summary>
public sealed class TurnOutcomeUnknownException(string message, Exception inner) : Exception(message, inner);

public enum ConflictKind
{
    /// <summary>Another turn changed the grain since this turn's version.</summary>
    Version,

    /// <summary>A message this turn handled was already consumed by another turn.</summary>
    MessageConsumed,
}

/// <summary>The commit lost an optimistic race; nothing of the turn was written.</summary>
public sealed class ConcurrencyConflictException(ConflictKind kind, string message) : Exception(message)
{
    public ConflictKind Kind { get; } = kind;
}

/// <summary>A silo as registered in the membership table.</summary>
public sealed record SiloRecord(
    string SiloId,
    string HostName,
    string? Address,
    IReadOnlyList<string> Roles,
    DateTimeOffset StartedAt,
    DateTimeOffset LastHeartbeat,
    string Status);

/// <summary>Backlog figures for health and lag metrics.</summary>
/// <param name="DueReminders">Reminders due now, claimed or not.</param>
/// <param name="PendingMessages">Messages in the outbox, including retries scheduled for later.</param>
/// <param name="DueMessages">Outbox messages due now.</param>
/// <param name="OldestDueReminder">Due time of the most overdue reminder: the reminder lag.</param>
/// <param name="OldestDueMessage">Due time of the most overdue message: the delivery lag.</param>
public sealed record StoreBacklog(long DueReminders, long PendingMessages, long DueMessages, DateTimeOffset? OldestDueReminder, DateTimeOffset? OldestDueMessage);
