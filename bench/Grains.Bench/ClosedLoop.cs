using System.Diagnostics;
using System.Globalization;
using CryptoPay.Api.Bench.Measurement;

namespace CryptoPay.Grains.Bench;

/// <summary>Operations completed per second in a timed window, their latencies, and the CPU they cost.</summary>
internal sealed record LoopResult(double PerSecond, long Operations, double P50, double P99, long Errors, string? FirstError, CpuUsage? Cpu)
{
    /// <summary>CPU of this process (silo and callers) and PostgreSQL per operation, µs: robust to other load on the machine.</summary>
    public double CpuMicrosPerOperation => Cpu is { } cpu && PerSecond > 0 ? (cpu.Bench + cpu.Postgres) / 100 * cpu.Cores * 1e6 / PerSecond : double.NaN;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{PerSecond,9:N0}/s  p50 {P50,6:F2} ms  p99 {P99,7:F2} ms  ({Operations:N0} ops{(Errors > 0 ? $", {Errors} errors, first: {FirstError}" : "")})") +
        (Cpu is { } cpu ? string.Create(CultureInfo.InvariantCulture, $"\n{"",40} {cpu}; per op {CpuMicrosPerOperation:F0} µs") : "");
}

internal static class ClosedLoop
{
    /// <summary>
    /// <paramref name="workers"/> callers, each starting its next operation when the last returned; operations that end
    /// inside [warmUp, warmUp + measure] count. A failed operation is counted as an error, never ends the run.
    /// </summary>
    public static async Task<LoopResult> RunAsync(int workers, TimeSpan warmUp, TimeSpan measure, Func<int, long, Task> operation, CpuMeter? cpu, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var until = warmUp + measure;
        var cpuWindow = cpu is null ? Task.FromResult<CpuUsage?>(null) : MeasureCpuAsync(cpu, warmUp, measure, ct);
        var latencies = new List<double>[workers];
        var errors = new long[workers];
        string? firstError = null;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(worker => Task.Run(async () =>
        {
            latencies[worker] = [];
            for (long i = 0; clock.Elapsed < until && !ct.IsCancellationRequested; i++)
            {
                var started = clock.Elapsed;
                try
                {
                    await operation(worker, i);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    errors[worker]++;
                    Interlocked.CompareExchange(ref firstError, $"{error.GetType().Name}: {error.Message}", null);
                    continue;
                }

                var done = clock.Elapsed;
                if (done >= warmUp && done <= until)
                {
                    latencies[worker].Add((done - started).TotalMilliseconds);
                }
            }
        }, ct)));
        var all = latencies.SelectMany(l => l).ToArray();
        Array.Sort(all);
        return new LoopResult(all.Length / measure.TotalSeconds, all.Length, Percentile(all, 50), Percentile(all, 99), errors.Sum(), firstError, await cpuWindow);
    }

    private static double Percentile(double[] sorted, double percent) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(percent / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static async Task<CpuUsage?> MeasureCpuAsync(CpuMeter cpu, TimeSpan warmUp, TimeSpan measure, CancellationToken ct)
    {
        await Task.Delay(warmUp, ct);
        var start = cpu.Take();
        await Task.Delay(measure, ct);
        return CpuMeter.Between(start, cpu.Take());
    }
}
