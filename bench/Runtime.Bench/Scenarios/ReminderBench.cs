using System.Diagnostics;
using System.Globalization;
using CryptoPay.Runtime.Bench.Grains;
using CryptoPay.Runtime.Bench.Hosting;
using CryptoPay.Runtime.Bench.Measurement;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Runtime.Bench.Scenarios;

/// <summary>Fire lags of one reminder scenario, from the ticks the grains saw (FiredAt − DueAt).</summary>
internal sealed record ReminderResult(
    int Scheduled,
    int Fired,
    long Repeats,
    int Early,
    long[] SortedLagTicks,
    DateTimeOffset FirstDue,
    DateTimeOffset LastFired,
    TimeSpan Registration,
    bool RegistrationOverlapped,
    TimeSpan? AllCommittedAfterDue,
    TimeSpan CommitLagMean,
    TimeSpan CommitLagMax,
    RoundTrips RegistrationTrips,
    RoundTrips FiringTrips,
    CpuUsage Cpu)
{
    public TimeSpan P50 => Percentiles.OfTicks(SortedLagTicks, 50);

    public TimeSpan P99 => Percentiles.OfTicks(SortedLagTicks, 99);

    public TimeSpan Max => Percentiles.OfTicks(SortedLagTicks, 100);

    public bool Complete => Fired == Scheduled;

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"""
        fired {Fired:N0}/{Scheduled:N0} (re-fired {Repeats}, early {Early}); lag FiredAt−DueAt p50 {P50.TotalMilliseconds:N0} ms, p99 {P99.TotalMilliseconds:N0} ms, max {Max.TotalMilliseconds:N0} ms
            lag until the firing turn committed (silo metrics): mean {CommitLagMean.TotalMilliseconds:N0} ms, max {CommitLagMax.TotalMilliseconds:N0} ms
            registration of {Scheduled:N0} reminders took {Registration.TotalSeconds:F1} s{(RegistrationOverlapped ? " and OVERLAPPED the first due time (figures include registration load)" : ", done before the first due time")}, {RegistrationTrips.Per(Scheduled):F2} round trips per registration
            firing: {FiringTrips.Per(Scheduled):F2} round trips per reminder (claims and polls included), failed commands {FiringTrips.Failed:N0}
            {Cpu}
        """);
}

/// <summary>
/// Scenarios 2 and 3 on a two-silo cluster (both with the reminders role): one-shot reminders, one per
/// grain, registered through grain turns ahead of their due time so registration is not measured.
/// </summary>
internal sealed class ReminderBench(BenchSettings settings, PostgresServer server, CpuMeter cpu, RoundTripCounter roundTrips)
{
    private const int Silos = 2;
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Scenario 2: <c>SpreadRatePerSecond</c> reminders due each second, evenly spaced.</summary>
    public async Task<ReminderResult> SpreadAsync(double turnsPerSecondEstimate, CancellationToken ct)
    {
        var count = settings.SpreadReminders;
        await using var bench = await BenchCluster.StartAsync(server, Silos, "bench-reminders-spread", roundTrips, warmPool: true, ct).ConfigureAwait(false);

        // A registration turn is a cold grain: a state read plus a commit inserting grain and reminder rows.
        var registrationRate = Math.Max(200, turnsPerSecondEstimate * 0.4);
        var lead = TimeSpan.FromSeconds(Math.Clamp(count / registrationRate + 2, 3, 45));
        var firstDue = Now() + lead;
        DateTimeOffset DueOf(int i) => firstDue + TimeSpan.FromTicks(i * TimeSpan.TicksPerSecond / settings.SpreadRatePerSecond);

        return await RunAsync(bench, "spread", count, DueOf, firstDue, DueOf(count - 1), ct).ConfigureAwait(false);
    }

    /// <summary>Scenario 3: every reminder due at the same instant.</summary>
    public async Task<ReminderResult> BurstAsync(CancellationToken ct)
    {
        var count = settings.BurstReminders;
        await using var bench = await BenchCluster.StartAsync(server, Silos, "bench-reminders-burst", roundTrips, warmPool: true, ct).ConfigureAwait(false);
        var due = Now() + settings.BurstLead;
        return await RunAsync(bench, "burst", count, _ => due, due, due, ct).ConfigureAwait(false);
    }

    private async Task<ReminderResult> RunAsync(
        BenchCluster bench,
        string prefix,
        int count,
        Func<int, DateTimeOffset> dueOf,
        DateTimeOffset firstDue,
        DateTimeOffset lastDue,
        CancellationToken ct)
    {
        var registrationTrips = bench.StoreRoundTrips;
        var registration = Stopwatch.StartNew();
        await RegisterAsync(bench, prefix, count, dueOf, ct).ConfigureAwait(false);
        registration.Stop();
        registrationTrips = bench.StoreRoundTrips - registrationTrips;
        var overlapped = Now() > firstDue;

        await DelayUntilAsync(firstDue, ct).ConfigureAwait(false);
        var firingTrips = bench.StoreRoundTrips;
        var cpuStart = cpu.Take();
        var deadline = lastDue + DrainTimeout;
        TimeSpan? allCommitted = null;
        while (Now() < deadline)
        {
            // Silo metrics count a firing after its turn committed; the collector sees it inside the turn.
            if (allCommitted is null && bench.RemindersFired >= count)
            {
                allCommitted = Now() - lastDue;
            }

            if (allCommitted is not null && bench.Collector.Count >= count)
            {
                break;
            }

            await Task.Delay(10, ct).ConfigureAwait(false);
        }

        var cpuEnd = cpu.Take();
        firingTrips = bench.StoreRoundTrips - firingTrips;
        var firings = bench.Collector.Snapshot();
        var lags = firings.Select(f => f.Lag.Ticks).ToArray();
        Array.Sort(lags);
        var metrics = bench.Metrics;
        var fired = metrics.Sum(m => m.RemindersFired);
        var commitLagMean = fired == 0
            ? TimeSpan.Zero
            : TimeSpan.FromTicks(metrics.Sum(m => m.ReminderLagMean.Ticks * m.RemindersFired) / fired);
        return new ReminderResult(
            count,
            firings.Length,
            bench.Collector.Repeats,
            lags.Count(l => l < 0),
            lags,
            firstDue,
            firings.Length == 0 ? firstDue : firings.Max(f => f.FiredAt),
            registration.Elapsed,
            overlapped,
            allCommitted,
            commitLagMean,
            metrics.Max(m => m.ReminderLagMax),
            registrationTrips,
            firingTrips,
            CpuMeter.Between(cpuStart, cpuEnd));
    }

    /// <summary>Registers in due order through both silos' factories, each reminder by its own grain's turn.</summary>
    private async Task RegisterAsync(BenchCluster bench, string prefix, int count, Func<int, DateTimeOffset> dueOf, CancellationToken ct)
    {
        var next = new int[1];
        async Task WorkerAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next[0]) - 1) < count)
            {
                ct.ThrowIfCancellationRequested();
                var grain = bench.Cluster.FactoryOf(i % bench.SiloCount).GetGrain<IReminderProbeGrain>(string.Create(CultureInfo.InvariantCulture, $"{prefix}-{i:D6}"));
                await grain.ScheduleAt(dueOf(i)).ConfigureAwait(false);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(_ => Task.Run(WorkerAsync, ct))).ConfigureAwait(false);
    }

    private static DateTimeOffset Now() => TimeProvider.System.GetUtcNow();

    private static async Task DelayUntilAsync(DateTimeOffset when, CancellationToken ct)
    {
        var wait = when - Now();
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, ct).ConfigureAwait(false);
        }
    }
}
