using System.Diagnostics;
using System.Globalization;
using CryptoPay.Runtime.Bench.Grains;
using CryptoPay.Runtime.Bench.Hosting;
using CryptoPay.Runtime.Bench.Measurement;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Runtime.Bench.Scenarios;

internal sealed record MessageResult(
    int Silos,
    bool Hot,
    int Messages,
    int Senders,
    int Receivers,
    TimeSpan SendPhase,
    TimeSpan Elapsed,
    bool Drained,
    long PeakOutbox,
    long PeakRetried,
    long ReceiverTurns,
    long ReceivedSum,
    long DeliveredMetric,
    RoundTrips RoundTrips,
    CpuUsage Cpu)
{
    public double DeliveredPerSecond => Messages / Elapsed.TotalSeconds;

    public bool Consistent => Drained && ReceivedSum == Messages && DeliveredMetric == Messages;

    public string Label => Hot
        ? string.Create(CultureInfo.InvariantCulture, $"{Messages:N0} msgs → 1 hot receiver, {Silos} silo{(Silos == 1 ? "" : "s")}")
        : string.Create(CultureInfo.InvariantCulture, $"{Messages:N0} msgs → {Receivers:N0} receivers, {Silos} silo{(Silos == 1 ? "" : "s")}");

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"""
        {DeliveredPerSecond:N0} delivered/s: {Senders:N0} sender turns done in {SendPhase.TotalSeconds:F2} s, outbox empty after {Elapsed.TotalSeconds:F2} s{(Drained ? "" : " (NOT DRAINED before the timeout)")}
            peak outbox {PeakOutbox:N0} rows, peak rows with a failed attempt {PeakRetried:N0}; {ReceiverTurns:N0} receiving turns ({Messages / (double)Math.Max(1, ReceiverTurns):F1} msgs/turn)
            {RoundTrips.Per(Messages):F2} round trips per message (sender and receiver turns, polls), failed commands {RoundTrips.Failed:N0}
            exactly-once check: sum received = {ReceivedSum:N0}, delivered metric = {DeliveredMetric:N0}, sent = {Messages:N0}: {(Consistent ? "consistent" : "MISMATCH")}
            {Cpu}
        """);
}

/// <summary>
/// Scenario 4: sender turns each send <c>MessagesPerSender</c> exactly-once messages; measured from the
/// first send until the outbox is empty (every receiving turn committed).
/// </summary>
internal sealed class MessageBench(BenchSettings settings, PostgresServer server, CpuMeter cpu, RoundTripCounter roundTrips)
{
    private const int PlanSeed = 20_261_122;
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(120);

    public async Task<MessageResult> RunAsync(int silos, bool hot, CancellationToken ct)
    {
        var senders = settings.MessageSenders;
        var perSender = settings.MessagesPerSender;
        var receivers = hot ? 1 : settings.MessageReceivers;

        // Seeded random receivers: a receiver hears from senders on every silo, as a merchant balance would.
        var random = new Random(PlanSeed);
        var plans = Enumerable.Range(0, senders)
            .Select(_ => Enumerable.Range(0, perSender)
                .Select(_ => hot ? "hot" : string.Create(CultureInfo.InvariantCulture, $"receiver-{random.Next(receivers):D5}"))
                .ToArray())
            .ToArray();
        var distinctReceivers = plans.SelectMany(p => p).Distinct(StringComparer.Ordinal).Count();

        await using var bench = await BenchCluster.StartAsync(server, silos, $"bench-messages-{(hot ? "hot" : "fanout")}-{silos}", roundTrips, warmPool: true, ct).ConfigureAwait(false);
        var trips = bench.StoreRoundTrips;
        var monitorState = new OutboxMonitor();
        var cpuStart = cpu.Take();
        var clock = Stopwatch.StartNew();
        var monitor = MonitorAsync(bench, monitorState, clock, ct);

        var next = new int[1];
        async Task WorkerAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next[0]) - 1) < senders)
            {
                var sender = bench.Cluster.FactoryOf(i % silos).GetGrain<ISenderGrain>(string.Create(CultureInfo.InvariantCulture, $"sender-{i:D5}"));
                await sender.SendTo(plans[i]).ConfigureAwait(false);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(_ => Task.Run(WorkerAsync, ct))).ConfigureAwait(false);
        var sendPhase = clock.Elapsed;
        monitorState.SendsDone = true;
        var drained = await monitor.ConfigureAwait(false);
        var elapsed = drained ? monitorState.EmptyAt : clock.Elapsed;
        var cpuEnd = cpu.Take();
        trips = bench.StoreRoundTrips - trips;

        // The delivered metric is bumped just after the receiving turn's completion; give it a moment to settle.
        for (var i = 0; i < 100 && bench.MessagesDelivered < senders * perSender; i++)
        {
            await Task.Delay(10, ct).ConfigureAwait(false);
        }

        var receivedSum = await bench.ScalarAsync("SELECT sum((state->>'received')::bigint) FROM cp_grains WHERE grain_type = 'bench-receiver'", ct)
            .ConfigureAwait(false);
        var turns = bench.Metrics.Sum(m => m.TurnsCommitted);
        return new MessageResult(
            silos,
            hot,
            senders * perSender,
            senders,
            distinctReceivers,
            sendPhase,
            elapsed,
            drained,
            monitorState.PeakOutbox,
            monitorState.PeakRetried,
            turns - senders,
            receivedSum,
            bench.MessagesDelivered,
            trips,
            CpuMeter.Between(cpuStart, cpuEnd));
    }

    /// <summary>Polls the outbox every 20 ms; true once it is empty after all sends returned.</summary>
    private static async Task<bool> MonitorAsync(BenchCluster bench, OutboxMonitor state, Stopwatch clock, CancellationToken ct)
    {
        while (clock.Elapsed < DrainTimeout)
        {
            var sendsDone = state.SendsDone;
            var (pending, retried) = await bench.OutboxAsync(ct).ConfigureAwait(false);
            state.PeakOutbox = Math.Max(state.PeakOutbox, pending);
            state.PeakRetried = Math.Max(state.PeakRetried, retried);
            if (sendsDone && pending == 0)
            {
                state.EmptyAt = clock.Elapsed;
                return true;
            }

            await Task.Delay(20, ct).ConfigureAwait(false);
        }

        return false;
    }

    private sealed class OutboxMonitor
    {
        private volatile bool sendsDone;

        public bool SendsDone
        {
            get => sendsDone;
            set => sendsDone = value;
        }

        public long PeakOutbox { get; set; }

        public long PeakRetried { get; set; }

        public TimeSpan EmptyAt { get; set; }
    }
}
