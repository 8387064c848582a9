using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Webhooks;

/// <summary>
/// The one grain of the cluster (key <see cref="WebhookLeaseSweeperGrain.Key"/>) that gives webhook deliveries the turns
/// their own reminders used to: every <see cref="WebhookLeaseSweeperGrain.Period"/> it asks the deliveries table for
/// those whose attempt time has passed and resumes each (<see cref="IWebhookDeliveryGrain.Resume"/>).
/// </summary>
[Alias("cryptopay.webhook-lease-sweeper")]
public interface IWebhookLeaseSweeperGrain : ISweeperGrain
{
    /// <summary>Resumes every delivery due by the gateway clock now; returns how many were resumed.</summary>
    Task<int> Sweep();
}

/// <remarks>
/// One query per period for the whole cluster, instead of a reminder row registered, read and deleted per delivery.
/// The timer sweeps every <see cref="Period"/> while the grain is active; the reminder (every
/// <see cref="ReminderPeriod"/>) brings it back on a survivor when its silo dies, and each silo starts it at start-up
/// (<see cref="SweeperStartup{TGrain}"/>). A delivery whose silo died mid-send is therefore resent at most about
/// <see cref="WebhookOptions.AttemptLease"/> + <see cref="Period"/> after the attempt started (longer only while no
/// silo holds the sweeper, at most a reminder period). Resuming is idempotent: a delivery that is not due by its own
/// state does nothing.
/// </remarks>
[GrainType("webhook-lease-sweeper")]
public sealed class WebhookLeaseSweeperGrain(
    IServiceProvider services,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<WebhookLeaseSweeperGrain> logger)
    : SweeperGrain(logger), IWebhookLeaseSweeperGrain
{
    /// <summary>How often the active sweeper looks for due deliveries.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(15);

    /// <summary>Deliveries read per query; a sweep reads pages until one is short (at most <see cref="MaxPages"/>).</summary>
    public const int PageSize = 1_000;

    public const int MaxPages = 20;

    // Null on silos without the gateway's grain services (test clusters of other grains): nothing to sweep.
    private readonly IWebhookDeliveryQuery? query = services.GetService<IWebhookDeliveryQuery>();
    private readonly GatewayMetrics? metrics = services.GetService<GatewayMetrics>();

    protected override TimeSpan SweepPeriod => Period;

    protected override string Sweeps => "webhook lease";

    protected override Task SweepOnceAsync() => Sweep();

    public async Task<int> Sweep()
    {
        if (query is null)
        {
            return 0;
        }

        var resumed = 0;
        for (var page = 0; page < MaxPages; page++)
        {
            var due = await query.DueAsync(clock.GetUtcNow(), PageSize, CancellationToken.None);
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = EffectOutbox<GrainEffect>.MaxConcurrentReceivers, TaskScheduler = TaskScheduler.Current }, async (key, _) =>
            {
                try
                {
                    await GrainFactory.GetGrain<IWebhookDeliveryGrain>(key).Resume();
                    Interlocked.Increment(ref resumed);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    // Its row stays due: the next sweep tries again.
                    logger.LogWarning(error, "Webhook delivery {Delivery} could not be resumed", key);
                }
            });
            if (due.Count < PageSize)
            {
                break;
            }
        }

        var backlog = await query.BacklogAsync(CancellationToken.None);
        metrics?.ReportWebhookBacklog(backlog.Count, backlog.OldestCreatedAt is { } oldest ? clock.GetUtcNow() - oldest : TimeSpan.Zero);
        return resumed;
    }
}
