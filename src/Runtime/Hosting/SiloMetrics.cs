namespace CryptoPay.Runtime.Hosting;

/// <summary>Counters a silo keeps for health endpoints and benchmarks.</summary>
public sealed class SiloMetrics
{
    private long turnsCommitted;
    private long remindersFired;
    private long messagesDelivered;
    private long reminderLagTicksTotal;
    private long reminderLagTicksMax;

    public long TurnsCommitted => Interlocked.Read(ref turnsCommitted);

    public long RemindersFired => Interlocked.Read(ref remindersFired);

    public long MessagesDelivered => Interlocked.Read(ref messagesDelivered);

    public TimeSpan ReminderLagMax => TimeSpan.FromTicks(Interlocked.Read(ref reminderLagTicksMax));

    public TimeSpan ReminderLagMean
    {
        get
        {
            var fired = RemindersFired;
            return fired == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Interlocked.Read(ref reminderLagTicksTotal) / fired);
        }
    }

    internal void TurnCommitted() => Interlocked.Increment(ref turnsCommitted);

    internal void MessagesDeliveredAdd(int count) => Interlocked.Add(ref messagesDelivered, count);

    internal void ReminderFired(TimeSpan lag)
    {
        Interlocked.Increment(ref remindersFired);
        var ticks = Math.Max(0, lag.Ticks);
        Interlocked.Add(ref reminderLagTicksTotal, ticks);
        long seen;
        while (ticks > (seen = Interlocked.Read(ref reminderLagTicksMax)) &&
               Interlocked.CompareExchange(ref reminderLagTicksMax, ticks, seen) != seen)
        {
        }
    }
}
