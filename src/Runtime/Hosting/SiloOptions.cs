namespace CryptoPay.Runtime.Hosting;

/// <summary>Well-known silo roles; a silo without a role does not run that role's background work.</summary>
public static class SiloRoles
{
    public const string Api = "api";
    public const string Reminders = "reminders";
    public const string Watchers = "watchers";

    public static readonly IReadOnlyList<string> All = [Api, Reminders, Watchers];
}

public sealed class SiloOptions
{
    /// <summary>Unique per running silo; generated when empty.</summary>
    public string? SiloId { get; set; }

    /// <summary>Where operators reach this silo (e.g. its HTTP URL), shown in the membership table.</summary>
    public string? Address { get; set; }

    /// <summary>The roles this silo plays; empty means all of them. (Empty by default so configuration replaces, not extends, it.)</summary>
    public List<string> Roles { get; set; } = [];

    public IReadOnlyList<string> EffectiveRoles => Roles.Count == 0 ? SiloRoles.All : Roles;

    public TimeSpan ReminderPollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a claimed reminder belongs to its silo; a dead silo's reminders fire elsewhere after this.</summary>
    public TimeSpan ReminderLease { get; set; } = TimeSpan.FromSeconds(30);

    public TimeSpan ReminderRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    public int MaxConcurrentReminders { get; set; } = 500;

    public TimeSpan MessagePollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long the sending silo owns a new message for its immediate delivery before any silo may take it.</summary>
    public TimeSpan MessageLease { get; set; } = TimeSpan.FromSeconds(30);

    public int MaxConcurrentDeliveries { get; set; } = 1000;

    /// <summary>How many queued messages for one grain are handled in one turn.</summary>
    public int MessageBatchSize { get; set; } = 100;

    public TimeSpan MessageRetryMax { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A silo whose heartbeat is older than this many intervals is listed as dead.</summary>
    public int MissedHeartbeatsBeforeDead { get; set; } = 3;

    public TimeSpan IdleActivationTimeout { get; set; } = TimeSpan.FromMinutes(10);

    public int MaxConflictRetries { get; set; } = 1000;

    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a turn waits out a store outage (e.g. a PostgreSQL restart) before failing.</summary>
    public TimeSpan StoreOutageTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Follow the store's change feed, so a cached read may answer from a copy nobody changed for longer than its
    /// max age (see <c>CachedReadAttribute</c>). Off: cached reads trust a copy for their max age only.
    /// </summary>
    public bool UseChangeFeed { get; set; } = true;

    /// <summary>How often the change feed proves it is caught up; a cached read trusts the feed up to its max age behind.</summary>
    public TimeSpan ChangeFeedProbeInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Throws with a clear message when a setting cannot work.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                errors.Add($"{name} must be positive (was {value}).");
            }
        }

        Positive(ReminderPollInterval, nameof(ReminderPollInterval));
        Positive(ReminderLease, nameof(ReminderLease));
        Positive(ReminderRetryDelay, nameof(ReminderRetryDelay));
        Positive(MessagePollInterval, nameof(MessagePollInterval));
        Positive(MessageLease, nameof(MessageLease));
        Positive(MessageRetryMax, nameof(MessageRetryMax));
        Positive(HeartbeatInterval, nameof(HeartbeatInterval));
        Positive(IdleActivationTimeout, nameof(IdleActivationTimeout));
        Positive(ShutdownDrainTimeout, nameof(ShutdownDrainTimeout));
        Positive(StoreOutageTimeout, nameof(StoreOutageTimeout));
        Positive(ChangeFeedProbeInterval, nameof(ChangeFeedProbeInterval));
        if (MaxConcurrentReminders < 1)
        {
            errors.Add($"{nameof(MaxConcurrentReminders)} must be at least 1.");
        }

        if (MaxConcurrentDeliveries < 1)
        {
            errors.Add($"{nameof(MaxConcurrentDeliveries)} must be at least 1.");
        }

        if (MessageBatchSize is < 1 or > 10_000)
        {
            errors.Add($"{nameof(MessageBatchSize)} must be between 1 and 10000.");
        }

        if (MissedHeartbeatsBeforeDead < 2)
        {
            errors.Add($"{nameof(MissedHeartbeatsBeforeDead)} must be at least 2.");
        }

        if (MaxConflictRetries < 1)
        {
            errors.Add($"{nameof(MaxConflictRetries)} must be at least 1.");
        }

        foreach (var role in Roles.Where(r => !SiloRoles.All.Contains(r)))
        {
            errors.Add($"Unknown silo role '{role}'; known roles: {string.Join(", ", SiloRoles.All)}.");
        }

        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid silo configuration: " + string.Join(" ", errors));
        }
    }
}
