namespace CryptoPay.Runtime.Grains;

/// <summary>Marker for grain interfaces. Use <see cref="IGrainWithStringKey"/> or <see cref="IGrainWithGuidKey"/>.</summary>
public interface IGrain;

public interface IGrainWithStringKey : IGrain;

public interface IGrainWithGuidKey : IGrain;

/// <summary>Implemented by grains that register reminders.</summary>
public interface IRemindable
{
    Task ReceiveReminder(string reminderName, ReminderTick tick);
}

/// <summary>One firing of a reminder: when it was due, its period (null for one-shot) and when it actually fired.</summary>
public sealed record ReminderTick(DateTimeOffset DueAt, TimeSpan? Period, DateTimeOffset FiredAt);

/// <summary>
/// Lets a read-only call answer from the activation's state without asking the store, when that
/// state is known current as of at most <paramref name="maxAgeMilliseconds"/> ago: it was confirmed
/// (read or committed) since then, or the store's change feed has reported every change since its
/// confirmation up to that time and none of this grain. On one silo the answer is always current;
/// across silos it may lag another silo's commit by at most that long. A call that changes anything
/// still commits with the full version check.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class CachedReadAttribute(int maxAgeMilliseconds) : Attribute
{
    public TimeSpan MaxAge { get; } = TimeSpan.FromMilliseconds(maxAgeMilliseconds);

    /// <summary>
    /// The answer is an immutable value computed from the state alone (not the clock, not other grains), so
    /// while the state is unchanged and known current, callers may share the last answer: the call is answered
    /// on the caller's thread without a turn, if the activation is idle. Needs a method without parameters and a
    /// deeply immutable result type (checked at registration).
    /// </summary>
    public bool Shared { get; init; }
}

/// <summary>
/// Names the grain type as stored in the database. Without it the interface name is used, so give
/// every production grain a stable name that survives renames.
/// </summary>
[AttributeUsage(AttributeTargets.Interface)]
public sealed class GrainTypeAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
