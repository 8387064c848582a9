using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Invoices;

/// <summary>
/// The one grain of the cluster (key <see cref="InvoiceWakeSweeperGrain.Key"/>) that gives invoices the turns their own
/// wake reminders used to: every <see cref="InvoiceWakeSweeperGrain.Period"/> it asks the invoices table for those whose
/// wake time (<c>wake_at</c>: the expiry of a pending invoice, or a retry of its events) has passed and wakes each.
/// </summary>
[Alias("cryptopay.invoice-wake-sweeper")]
public interface IInvoiceWakeSweeperGrain : IGrainWithStringKey
{
    /// <summary>Makes sure the sweeper runs: its reminder exists (it survives silos) and this activation's timer ticks.</summary>
    Task Start();

    /// <summary>
    /// Wakes every invoice due by the gateway clock now, or with <paramref name="anyWakeTime"/> every invoice that has a
    /// wake time at all (tests moving a fake clock, as <see cref="DueWork"/> wakes every grain holding a reminder); returns
    /// how many were woken.
    /// </summary>
    Task<int> Sweep(bool anyWakeTime = false);
}

/// <remarks>
/// One indexed query per period for the whole cluster, instead of a reminder row upserted before each creation's write
/// and read and deleted when it fired. The timer sweeps every <see cref="Period"/> while the grain is active; the
/// reminder (every <see cref="ReminderPeriod"/>) brings it back on a survivor when its silo dies, and each silo starts it
/// at start-up (<see cref="InvoiceWakeSweeperStartup"/>). Waking is idempotent: an invoice with nothing due by its own
/// state does nothing (and corrects a stored wake time that is not its own).
/// </remarks>
[GrainType("invoice-wake-sweeper")]
public sealed class InvoiceWakeSweeperGrain(
    IServiceProvider services,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<InvoiceWakeSweeperGrain> logger)
    : Grain, IInvoiceWakeSweeperGrain, IRemindable
{
    public const string Key = "sweeper";
    public const string ReminderName = "sweep";

    /// <summary>How often the active sweeper looks for due invoices: an expiry is stored at most this long after it fell due.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>How often the reminder that keeps the sweeper alive across silos ticks.</summary>
    public static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    /// <summary>Invoices read per query; a sweep reads pages until one is short (at most <see cref="MaxPages"/>).</summary>
    public const int PageSize = 1_000;

    public const int MaxPages = 20;

    // Null on silos without the gateway's grain services (test clusters of other grains): nothing to sweep.
    private readonly IInvoiceQuery? query = services.GetService<IInvoiceQuery>();
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

    public async Task<int> Sweep(bool anyWakeTime = false)
    {
        if (query is null)
        {
            return 0;
        }

        var woken = 0;
        // Woken invoices move their wake time on (or clear it), so each page of a due-by sweep is new; one that asks for
        // any wake time reads once, as many as all the pages hold.
        for (var page = 0; page < (anyWakeTime ? 1 : MaxPages); page++)
        {
            var limit = anyWakeTime ? PageSize * MaxPages : PageSize;
            var due = await query.DueAsync(anyWakeTime ? null : clock.GetUtcNow(), limit, CancellationToken.None);
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = EffectOutbox<GrainEffect>.MaxConcurrentReceivers, TaskScheduler = TaskScheduler.Current }, async (id, _) =>
            {
                try
                {
                    await GrainFactory.GetGrain<IInvoiceGrain>(id).Wake();
                    Interlocked.Increment(ref woken);
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    // Its row stays due: the next sweep tries again.
                    logger.LogWarning(error, "Invoice {Invoice} could not be woken", id);
                }
            });
            if (due.Count < limit)
            {
                break;
            }
        }

        return woken;
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
                logger.LogInformation("The invoice wake sweep runs again");
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // One line when sweeps start failing (the database is away), not one every period until it is back.
            if (!failing)
            {
                failing = true;
                logger.LogWarning("The invoice wake sweep failed ({Error}); it is tried every {Period} and says when it runs again", error.Message, Period);
            }
        }
    }
}

/// <summary>Starts the sweeper when a silo becomes active (every silo: the call is idempotent and the grain is one).</summary>
public sealed class InvoiceWakeSweeperStartup(IGrainFactory grains, ILogger<InvoiceWakeSweeperStartup> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(InvoiceWakeSweeperStartup), ServiceLifecycleStage.Active, StartAsync);
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await grains.GetGrain<IInvoiceWakeSweeperGrain>(InvoiceWakeSweeperGrain.Key).Start();
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // The reminder registered by an earlier start (it is stored) or by another silo keeps the sweeper going.
            logger.LogWarning(error, "The invoice wake sweeper could not be started from this silo");
        }
    }
}
