namespace CryptoPay.Runtime.Hosting;

/// <summary>Counters a silo keeps for health endpoints and benchmarks.</summary>
public sealed class SiloMetrics
{
    private long turnsCommitted;
    private long remindersFired;
    private long messagesDelivered;
    private long reminderLagTicksTotal;
    private long reminderLagTicksMax;
    private long grainReads;
    private long cachedReadsFromMemory;

    public long TurnsCommitted => Interlocked.Read(ref turnsCommitted);

    public long RemindersFired => Interlocked.Read(ref remindersFired);

    public long MessagesDelivered => Interlocked.Read(ref messagesDelivered);

    /// <summary>Grain reads (loads and version checks) this silo's activations sent to the store; cached reads answered from memory send none.</summary>
    public long GrainReads => Interlocked.Read(ref grainReads);

    /// <summary>Cached reads answered from an activation's state known current, without asking the store.</summary>
    public long CachedReadsFromMemory => Interlocked.Read(ref cachedReadsFromMemory);

    public TimeSpan ReminderLagMax => TimeSpan.FromTicks(Interlocked.Read(ref reminderLagTicksMax));

    public TimeSpan ReminderLagMean
    {
        get
        {
            var fired = RemindersFired;
            return fired == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Interlocked.Read(ref reminderLagTicksTotal) / fired);
        }
    }

    internal void GrainRead() => Interlocked.Increment(ref grainReads);

    internal void CachedReadFromMemory() => Interlocked.Increment(ref cachedReadsFromMemory);

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
