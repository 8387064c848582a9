using CryptoPay.Runtime.Bench.Measurement;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Runtime.Bench.Grains;

/// <summary>Registers one one-shot reminder and reports its firing to the in-process collector (no extra turn).</summary>
[GrainType("bench-reminder-probe")]
public interface IReminderProbeGrain : IGrainWithStringKey
{
    Task ScheduleAt(DateTimeOffset dueAt);
}

public sealed class ReminderProbeGrain(FireLagCollector collector) : Grain, IReminderProbeGrain, IRemindable
{
    public const string ReminderName = "probe";

    public Task ScheduleAt(DateTimeOffset dueAt)
    {
        RegisterReminderAt(ReminderName, dueAt);
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, ReminderTick tick)
    {
        collector.Record(GetPrimaryKeyString(), tick.DueAt, tick.FiredAt);
        return Task.CompletedTask;
    }
}
