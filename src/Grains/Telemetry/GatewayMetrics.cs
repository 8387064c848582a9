using System.Diagnostics.Metrics;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Merchants;

namespace CryptoPay.Grains.Telemetry;

/// <summary>The gateway's own meter (<see cref="MeterName"/>), exported beside Orleans' at /metrics.</summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "CryptoPay";

    private readonly Counter<long> invoicesCreated;
    private readonly Histogram<double> invoiceWakeLateness;
    private readonly Counter<long> depositsCredited;
    private ChainWatchMetrics? chains;
    private (long Count, double OldestAgeSeconds, long ReportedAt)? webhookBacklog;

    public GatewayMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        invoicesCreated = meter.CreateCounter<long>("cryptopay.invoices.created", "{invoice}", "Invoices opened, by mode.");
        depositsCredited = meter.CreateCounter<long>("cryptopay.deposits.credited", "{deposit}", "On-chain outputs credited to a merchant, by network and mode.");
        meter.CreateObservableGauge("cryptopay.chain.blocks_behind", ChainLag, "{block}",
            "Blocks between the node's tip and the chain watcher's cursor after this silo's last poll, by network.");
        meter.CreateObservableGauge("cryptopay.webhooks.backlog", () => FreshBacklog() is { } b ? [new Measurement<long>(b.Count)] : Array.Empty<Measurement<long>>(), "{delivery}",
            "Webhook deliveries under way (pending or being sent) in the whole cluster; reported by the silo running the lease sweeper.");
        meter.CreateObservableGauge("cryptopay.webhooks.oldest_pending_age", () => FreshBacklog() is { } b ? [new Measurement<double>(b.OldestAgeSeconds)] : Array.Empty<Measurement<double>>(), "s",
            "Age of the oldest webhook delivery under way (0 when none); reported with cryptopay.webhooks.backlog.");
        invoiceWakeLateness = meter.CreateHistogram<double>("cryptopay.invoices.wake_lateness", "s",
            "How long after its wake time (a pending invoice's expiry, a retry of its undelivered effects) the sweep woke each invoice.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600] });
        meter.CreateObservableCounter("cryptopay.chain.poll_failures", () => chains?.PollFailures ?? 0, "{poll}", "Chain polls of this silo that failed (node unreachable, read race).");
    }

    /// <summary>How long a backlog report stands: the sweeper reports every 15 s; a silo it left stops reporting.</summary>
    public static readonly TimeSpan BacklogReportLifetime = TimeSpan.FromSeconds(60);

    /// <summary>The webhook backlog as the lease sweeper on this silo last read it.</summary>
    public void ReportWebhookBacklog(long count, TimeSpan oldestAge) =>
        webhookBacklog = (count, Math.Max(0, oldestAge.TotalSeconds), Environment.TickCount64);

    private (long Count, double OldestAgeSeconds, long ReportedAt)? FreshBacklog() =>
        webhookBacklog is { } b && Environment.TickCount64 - b.ReportedAt < (long)BacklogReportLifetime.TotalMilliseconds ? b : null;

    /// <summary>Reports the chain watchers of this silo (their lag behind each node's tip).</summary>
    public void Observe(ChainWatchMetrics watchers) => chains = watchers;

    private IEnumerable<Measurement<long>> ChainLag() =>
        chains?.BlocksBehind.Select(n => new Measurement<long>(n.Value, new KeyValuePair<string, object?>("network", n.Key))) ?? [];

    /// <summary>An invoice the wake sweep woke, <paramref name="lateness"/> after its wake time (Orleans' reminder tardiness, for the grains that keep no reminder).</summary>
    public void InvoiceWoken(TimeSpan lateness) => invoiceWakeLateness.Record(Math.Max(0, lateness.TotalSeconds));

    public void InvoiceCreated(Mode mode) => invoicesCreated.Add(1, new KeyValuePair<string, object?>("mode", ModeName(mode)));

    public void DepositCredited(string network, Mode mode) =>
        depositsCredited.Add(1, new KeyValuePair<string, object?>("network", network), new KeyValuePair<string, object?>("mode", ModeName(mode)));

    private static string ModeName(Mode mode) => mode == Mode.Live ? "live" : "test";
}
