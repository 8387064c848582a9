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
/// Names the grain type as stored in the database. Without it the interface name is used, so give
/// every production grain a stable name that survives renames.
/// </summary>
[AttributeUsage(AttributeTargets.Interface)]
public sealed class GrainTypeAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
