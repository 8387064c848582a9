using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace CryptoPay.Runtime.Bench.Measurement;

/// <summary>Database operations (one per command or batch, i.e. one round trip) and failed ones, counted for one data source.</summary>
internal readonly record struct RoundTrips(long Operations, long Failed)
{
    public static RoundTrips operator -(RoundTrips end, RoundTrips start) => new(end.Operations - start.Operations, end.Failed - start.Failed);

    /// <summary>Round trips per unit of work (turn, reminder, message).</summary>
    public double Per(long units) => units == 0 ? 0 : Operations / (double)units;
}

/// <summary>
/// Listens to Npgsql's own metrics (<c>db.client.operation.duration</c> is recorded once per executed
/// command or batch, <c>db.client.operation.failed</c> once per failure) per data source name, so the
/// bench can report round trips per turn and failed commits (optimistic conflicts) without touching the runtime.
/// </summary>
internal sealed class RoundTripCounter : IDisposable
{
    private const string Meter = "Npgsql";
    private const string Operations = "db.client.operation.duration";
    private const string Failures = "db.client.operation.failed";
    private const string PoolTag = "db.client.connection.pool.name";

    private readonly ConcurrentDictionary<string, Counts> byPool = new(StringComparer.Ordinal);
    private readonly MeterListener listener = new();

    public RoundTripCounter()
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Meter && instrument.Name is Operations or Failures)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => Record(instrument, tags));
        listener.SetMeasurementEventCallback<int>((instrument, _, tags, _) => Record(instrument, tags));
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => Record(instrument, tags));
        listener.Start();
    }

    public RoundTrips Of(string poolName) =>
        byPool.TryGetValue(poolName, out var counts) ? new RoundTrips(Interlocked.Read(ref counts.Operations), Interlocked.Read(ref counts.Failed)) : default;

    public void Dispose() => listener.Dispose();

    private void Record(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? pool = null;
        foreach (var tag in tags)
        {
            if (tag.Key == PoolTag)
            {
                pool = tag.Value as string;
                break;
            }
        }

        if (pool is null)
        {
            return;
        }

        var counts = byPool.GetOrAdd(pool, static _ => new Counts());
        if (instrument.Name == Operations)
        {
            Interlocked.Increment(ref counts.Operations);
        }
        else
        {
            Interlocked.Increment(ref counts.Failed);
        }
    }

    private sealed class Counts
    {
        // Fields, so Interlocked can update them in place.
        public long Operations;
        public long Failed;
    }
}
