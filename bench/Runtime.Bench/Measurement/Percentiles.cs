namespace CryptoPay.Runtime.Bench.Measurement;

/// <summary>Nearest-rank percentiles of a sorted array.</summary>
internal static class Percentiles
{
    public static long Of(long[] sorted, double percent)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static TimeSpan OfTicks(long[] sortedTicks, double percent) => TimeSpan.FromTicks(Of(sortedTicks, percent));

    /// <summary>Stopwatch ticks to TimeSpan ticks, so latencies read as durations.</summary>
    public static long[] SortedDurations(IEnumerable<long> stopwatchTicks)
    {
        var factor = (double)TimeSpan.TicksPerSecond / System.Diagnostics.Stopwatch.Frequency;
        var durations = stopwatchTicks.Select(t => (long)(t * factor)).ToArray();
        Array.Sort(durations);
        return durations;
    }
}
