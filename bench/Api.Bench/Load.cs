using System.Diagnostics;
using System.Globalization;

namespace CryptoPay.Api.Bench;

/// <summary>Completed operations per second in a timed window and their latencies (milliseconds).</summary>
internal sealed record LoadResult(double PerSecond, long Operations, double[] SortedLatenciesMs, long Errors)
{
    public double P50 => Percentile(50);

    public double P99 => Percentile(99);

    public double Percentile(double percent) =>
        SortedLatenciesMs.Length == 0 ? double.NaN : SortedLatenciesMs[Math.Clamp((int)Math.Ceiling(percent / 100 * SortedLatenciesMs.Length) - 1, 0, SortedLatenciesMs.Length - 1)];

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{PerSecond,9:N0}/s  p50 {P50,6:F2} ms  p99 {P99,6:F2} ms  ({Operations:N0} ops{(Errors > 0 ? $", {Errors} errors" : "")})");
}

internal static class Load
{
    /// <summary>Closed loop: <paramref name="workers"/> callers, each starting its next operation when the last returned.</summary>
    public static Task<LoadResult> ClosedAsync(int workers, TimeSpan warmUp, TimeSpan measure, Func<int, CancellationToken, Task> operation, CancellationToken ct) =>
        RunAsync(workers, warmUp, measure, operation, interval: null, ct);

    /// <summary>
    /// Open loop at a fixed rate: operation k is due at start + k / rate; latency counts from when it was
    /// due, so a stalled server shows in the percentiles instead of slowing the offered load.
    /// </summary>
    public static Task<LoadResult> PacedAsync(double perSecond, int workers, TimeSpan warmUp, TimeSpan measure, Func<int, CancellationToken, Task> operation, CancellationToken ct) =>
        RunAsync(workers, warmUp, measure, operation, TimeSpan.FromSeconds(workers / perSecond), ct);

    private static async Task<LoadResult> RunAsync(int workers, TimeSpan warmUp, TimeSpan measure, Func<int, CancellationToken, Task> operation, TimeSpan? interval, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var from = warmUp;
        var until = warmUp + measure;
        var latencies = new List<double>[workers];
        var errors = new long[workers];
        await Task.WhenAll(Enumerable.Range(0, workers).Select(async worker =>
        {
            latencies[worker] = [];
            var next = interval is { } step ? step * worker / workers : TimeSpan.Zero;
            for (var i = 0; ; i++)
            {
                var due = interval is null ? clock.Elapsed : next;
                if (due >= until)
                {
                    return;
                }

                if (interval is { } pace)
                {
                    var wait = next - clock.Elapsed;
                    if (wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, ct);
                    }

                    next += pace;
                }

                try
                {
                    await operation(worker * 1_000_000 + i, ct);
                }
                catch (Exception error) when (error is HttpRequestException or InvalidOperationException or Npgsql.NpgsqlException)
                {
                    errors[worker]++;
                }

                var done = clock.Elapsed;
                if (due >= from && done <= until)
                {
                    latencies[worker].Add((done - due).TotalMilliseconds);
                }
            }
        }));
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new LoadResult(all.Length / measure.TotalSeconds, all.Length, all, errors.Sum());
    }
}
