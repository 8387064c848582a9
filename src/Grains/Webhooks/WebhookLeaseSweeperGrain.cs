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
public interface IWebhookLeaseSweeperGrain : IGrainWithStringKey
{
    /// <summary>Makes sure the sweeper runs: its reminder exists (it survives silos) and this activation's timer ticks.</summary>
    Task Start();

    /// <summary>Resumes every delivery due by the gateway clock now; returns how many were resumed.</summary>
    Task<int> Sweep();
}

/// <remarks>
/// One query per period for the whole cluster, instead of a reminder row registered, read and deleted per delivery.
/// The timer sweeps every <see cref="Period"/> while the grain is active; the reminder (every
/// <see cref="ReminderPeriod"/>) brings it back on a survivor when its silo dies, and each silo starts it at start-up
/// (<see cref="WebhookSweeperStartup"/>). A delivery whose silo died mid-send is therefore resent at most about
/// <see cref="WebhookOptions.AttemptLease"/> + <see cref="Period"/> after the attempt started (longer only while no
/// silo holds the sweeper, at most a reminder period). Resuming is idempotent: a delivery that is not due by its own
/// state does nothing.
/// </remarks>
[GrainType("webhook-lease-sweeper")]
public sealed class WebhookLeaseSweeperGrain(
    IServiceProvider services,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<WebhookLeaseSweeperGrain> logger)
    : Grain, IWebhookLeaseSweeperGrain, IRemindable
{
    public const string Key = "sweeper";
    public const string ReminderName = "sweep";

    /// <summary>How often the active sweeper looks for due deliveries.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(15);

    /// <summary>How often the reminder that keeps the sweeper alive across silos ticks.</summary>
    public static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    /// <summary>Deliveries read per query; a sweep reads pages until one is short (at most <see cref="MaxPages"/>).</summary>
    public const int PageSize = 1_000;

    public const int MaxPages = 20;

    // Null on silos without the gateway's grain services (test clusters of other grains): nothing to sweep.
    private readonly IWebhookDeliveryQuery? query = services.GetService<IWebhookDeliveryQuery>();
    private readonly GatewayMetrics? metrics = services.GetService<GatewayMetrics>();
    private bool reminderKnown;
    private bool failing;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(_ => SweepQuietlyAsync(), new GrainTimerCreationOptions(Period, Period) { KeepAlive = true });
        return base.OnActivateAsync(cancellationToken);
    }

    public async Task Start()
    {
        if (!reminderKnown)
        {
            await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
            reminderKnown = true;
        }
    }

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

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == ReminderName)
        {
            reminderKnown = true;
            await SweepQuietlyAsync();
        }
    }

    private async Task SweepQuietlyAsync()
    {
        try
        {
            await Sweep();
            if (failing)
            {
                failing = false;
                logger.LogInformation("The webhook lease sweep runs again");
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // One line when sweeps start failing (the database is away), not one every period until it is back.
            if (!failing)
            {
                failing = true;
                logger.LogWarning("The webhook lease sweep failed ({Error}); it is tried every {Period} and says when it runs again", error.Message, Period);
            }
        }
    }
}

/// <summary>Starts the sweeper when a silo becomes active (every silo: the call is idempotent and the grain is one).</summary>
public sealed class WebhookSweeperStartup(IGrainFactory grains, ILogger<WebhookSweeperStartup> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(WebhookSweeperStartup), ServiceLifecycleStage.Active, StartAsync);
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await grains.GetGrain<IWebhookLeaseSweeperGrain>(WebhookLeaseSweeperGrain.Key).Start();
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // The reminder registered by an earlier start (it is stored) or by another silo keeps the sweeper going.
            logger.LogWarning(error, "The webhook lease sweeper could not be started from this silo");
        }
    }
}
