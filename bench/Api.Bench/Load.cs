using System.Diagnostics;
using System.Globalization;
using CryptoPay.Api.Bench.Measurement;

namespace CryptoPay.Api.Bench;

/// <summary>Completed operations per second in a timed window and their latencies (milliseconds).</summary>
internal sealed record LoadResult(double PerSecond, long Operations, double[] SortedLatenciesMs, long Errors, CpuUsage? Cpu = null, long AllocatedBytes = 0)
{
    /// <summary>Bytes this process (gateway and callers) allocated in the window per completed operation: what its GC has to clear.</summary>
    public double AllocatedKilobytesPerOperation => Operations > 0 ? AllocatedBytes / 1024.0 / Operations : double.NaN;

    /// <summary>CPU time of the bench process and PostgreSQL together per completed operation (µs): robust to other load on the machine.</summary>
    public double CpuMicrosPerOperation => Cpu is { } cpu && PerSecond > 0 ? (cpu.Bench + cpu.Postgres) / 100 * cpu.Cores * 1e6 / PerSecond : double.NaN;

    public double BenchMicrosPerOperation => Cpu is { } cpu && PerSecond > 0 ? cpu.Bench / 100 * cpu.Cores * 1e6 / PerSecond : double.NaN;

    public double PostgresMicrosPerOperation => Cpu is { } cpu && PerSecond > 0 ? cpu.Postgres / 100 * cpu.Cores * 1e6 / PerSecond : double.NaN;

    public double P50 => Percentile(50);

    public double P99 => Percentile(99);

    public double Percentile(double percent) =>
        SortedLatenciesMs.Length == 0 ? double.NaN : SortedLatenciesMs[Math.Clamp((int)Math.Ceiling(percent / 100 * SortedLatenciesMs.Length) - 1, 0, SortedLatenciesMs.Length - 1)];

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{PerSecond,9:N0}/s  p50 {P50,6:F2} ms  p99 {P99,6:F2} ms  ({Operations:N0} ops{(Errors > 0 ? $", {Errors} errors" : "")})") +
        (Cpu is { } cpu
            ? string.Create(CultureInfo.InvariantCulture, $"\n{"",38} {cpu}; per op {CpuMicrosPerOperation:F0} µs = bench {BenchMicrosPerOperation:F0} + PostgreSQL {PostgresMicrosPerOperation:F0}; bench allocated {AllocatedKilobytesPerOperation:F1} KB")
            : "");
}

internal static class Load
{
    /// <summary>Closed loop: <paramref name="workers"/> callers, each starting its next operation when the last returned.</summary>
    public static Task<LoadResult> ClosedAsync(int workers, TimeSpan warmUp, TimeSpan measure, Func<int, CancellationToken, Task> operation, CancellationToken ct, CpuMeter? cpu = null) =>
        RunAsync(workers, warmUp, measure, operation, interval: null, cpu, ct);

    /// <summary>
    /// Open loop at a fixed rate: operation k is due at start + k / rate; latency counts from when it was
    /// due, so a stalled server shows in the percentiles instead of slowing the offered load.
    /// </summary>
    public static Task<LoadResult> PacedAsync(double perSecond, int workers, TimeSpan warmUp, TimeSpan measure, Func<int, CancellationToken, Task> operation, CancellationToken ct, CpuMeter? cpu = null) =>
        RunAsync(workers, warmUp, measure, operation, TimeSpan.FromSeconds(workers / perSecond), cpu, ct);

    private static async Task<LoadResult> RunAsync(int workers, TimeSpan warmUp, TimeSpan measure, Func<int, CancellationToken, Task> operation, TimeSpan? interval, CpuMeter? cpu, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var from = warmUp;
        var until = warmUp + measure;
        var cpuWindow = cpu is null ? Task.FromResult<(CpuUsage?, long)>((null, 0)) : MeasureCpuAsync(cpu, warmUp, measure, ct);
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
        var (usage, allocated) = await cpuWindow;
        return new LoadResult(all.Length / measure.TotalSeconds, all.Length, all, errors.Sum(), usage, allocated);
    }

    private static async Task<(CpuUsage?, long)> MeasureCpuAsync(CpuMeter cpu, TimeSpan warmUp, TimeSpan measure, CancellationToken ct)
    {
        await Task.Delay(warmUp, ct);
        var start = cpu.Take();
        var allocated = GC.GetTotalAllocatedBytes();
        await Task.Delay(measure, ct);
        return (CpuMeter.Between(start, cpu.Take()), GC.GetTotalAllocatedBytes() - allocated);
    }
}
