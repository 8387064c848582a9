using System.Diagnostics;
using System.Globalization;

namespace CryptoPay.Runtime.Bench.Measurement;

/// <summary>Throughput of a closed-loop run: operations completed inside the timed window, and their latencies.</summary>
internal sealed record ThroughputResult(double PerSecond, long MeasuredOperations, long TotalOperations, TimeSpan Window, long[] SortedLatencyTicks, CpuUsage Cpu)
{
    public TimeSpan LatencyP50 => Percentiles.OfTicks(SortedLatencyTicks, 50);

    public TimeSpan LatencyP99 => Percentiles.OfTicks(SortedLatencyTicks, 99);

    public TimeSpan LatencyMax => Percentiles.OfTicks(SortedLatencyTicks, 100);

    /// <summary>CPU time of this process per operation, in microseconds.</summary>
    public double BenchMicrosPerOperation => MicrosPerOperation(Cpu.Bench);

    /// <summary>CPU time of the PostgreSQL server per operation, in microseconds.</summary>
    public double PostgresMicrosPerOperation => MicrosPerOperation(Cpu.Postgres);

    public double CpuMicrosPerOperation => BenchMicrosPerOperation + PostgresMicrosPerOperation;

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{PerSecond:N0}/s ({MeasuredOperations:N0} in {Window.TotalSeconds:F1} s), latency p50 {LatencyP50.TotalMilliseconds:F2} ms, p99 {LatencyP99.TotalMilliseconds:F2} ms, max {LatencyMax.TotalMilliseconds:F1} ms; " +
        $"cpu per operation: bench {BenchMicrosPerOperation:F0} µs + PostgreSQL {PostgresMicrosPerOperation:F0} µs; {Cpu}");

    /// <summary>Several windows of the same configuration as one: rates from summed counts, latencies merged, CPU weighted by window length.</summary>
    public static ThroughputResult Combine(IReadOnlyList<ThroughputResult> windows)
    {
        var window = TimeSpan.FromTicks(windows.Sum(w => w.Window.Ticks));
        var measured = windows.Sum(w => w.MeasuredOperations);
        var latencies = windows.SelectMany(w => w.SortedLatencyTicks).ToArray();
        Array.Sort(latencies);
        double Weighted(Func<CpuUsage, double> share) => windows.Sum(w => share(w.Cpu) * w.Window.TotalSeconds) / window.TotalSeconds;
        var cpu = new CpuUsage(Weighted(c => c.MachineBusy), Weighted(c => c.Bench), Weighted(c => c.Postgres), windows[0].Cpu.Cores);
        return new ThroughputResult(measured / window.TotalSeconds, measured, windows.Sum(w => w.TotalOperations), window, latencies, cpu);
    }

    private double MicrosPerOperation(double percentOfMachine) =>
        MeasuredOperations == 0 ? double.NaN : percentOfMachine / 100 * Cpu.Cores * Window.TotalSeconds * 1_000_000 / MeasuredOperations;
}

/// <summary>
/// N workers, each awaiting one operation after another. A warm-up runs first; only operations that
/// complete inside the timed window count, so the rate is not inflated by the ramp-up or the tail.
/// </summary>
internal static class ClosedLoop
{
    public static async Task<ThroughputResult> RunAsync(
        int workers,
        TimeSpan warmUp,
        TimeSpan measure,
        Func<int, Task> operation,
        CpuMeter cpu,
        CancellationToken ct)
    {
        var phase = new Phase();
        var measured = new long[workers];
        var total = new long[workers];
        var latencies = new List<long>[workers];

        async Task WorkerAsync(int worker)
        {
            var mine = latencies[worker] = new List<long>(capacity: 16_384);
            while (phase.Current != Phase.Stopping)
            {
                var startedIn = phase.Current;
                var started = Stopwatch.GetTimestamp();
                await operation(worker).ConfigureAwait(false);
                var ended = Stopwatch.GetTimestamp();
                total[worker]++;
                if (phase.Current == Phase.Measuring)
                {
                    measured[worker]++;
                    if (startedIn == Phase.Measuring)
                    {
                        mine.Add(ended - started);
                    }
                }
            }
        }

        var running = Enumerable.Range(0, workers).Select(w => Task.Run(() => WorkerAsync(w), CancellationToken.None)).ToArray();
        await Task.Delay(warmUp, ct).ConfigureAwait(false);
        var cpuStart = cpu.Take();
        phase.Current = Phase.Measuring;
        var window = Stopwatch.StartNew();
        await Task.Delay(measure, ct).ConfigureAwait(false);
        phase.Current = Phase.Stopping;
        window.Stop();
        var cpuEnd = cpu.Take();
        await Task.WhenAll(running).ConfigureAwait(false);

        var count = measured.Sum();
        return new ThroughputResult(
            count / window.Elapsed.TotalSeconds,
            count,
            total.Sum(),
            window.Elapsed,
            Percentiles.SortedDurations(latencies.SelectMany(l => l)),
            CpuMeter.Between(cpuStart, cpuEnd));
    }

    private sealed class Phase
    {
        public const int WarmingUp = 0;
        public const int Measuring = 1;
        public const int Stopping = 2;

        private volatile int current = WarmingUp;

        public int Current
        {
            get => current;
            set => current = value;
        }
    }
}
