using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Invoices;

/// <summary>
/// The one grain of the cluster (key <see cref="InvoiceWakeSweeperGrain.Key"/>) that gives invoices the turns their own
/// wake reminders used to: every <see cref="InvoiceWakeSweeperGrain.Period"/> it asks the invoices table for those whose
/// wake time (<c>wake_at</c>: the expiry of a pending invoice) or retry time of effects not yet delivered
/// (<c>invoice_pending_effects</c>) has passed and wakes each.
/// </summary>
[Alias("cryptopay.invoice-wake-sweeper")]
public interface IInvoiceWakeSweeperGrain : ISweeperGrain
{
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
/// at start-up (<see cref="SweeperStartup{TGrain}"/>). Waking is idempotent: an invoice with nothing due by its own
/// state does nothing (and corrects a stored wake time that is not its own).
/// </remarks>
[GrainType("invoice-wake-sweeper")]
public sealed class InvoiceWakeSweeperGrain(
    IServiceProvider services,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<InvoiceWakeSweeperGrain> logger)
    : SweeperGrain(logger), IInvoiceWakeSweeperGrain
{
    /// <summary>How often the active sweeper looks for due invoices: an expiry is stored at most this long after it fell due.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    /// <summary>Invoices read per query; a sweep reads pages until one is short (at most <see cref="MaxPages"/>).</summary>
    public const int PageSize = 1_000;

    public const int MaxPages = 20;

    /// <summary>
    /// Invoices woken at the same time. When every new invoice was due again a retry period after its creation (its
    /// invoice.created event's retry time, before invoice_pending_effects), each sweep woke thousands, and 256 at a time
    /// made each a burst that held the requests of the same moment (Api.Bench on 2 cores: p99 at half of peak 462-599 ms
    /// for status reads, 238-552 ms for creations; with 32, 97 and 50 ms). 32 still expires 10,000 invoices due in one
    /// second within 7 s (Grains.Bench; docs/BENCHMARKS.md).
    /// </summary>
    public const int MaxConcurrentWakes = 32;

    // Null on silos without the gateway's grain services (test clusters of other grains): nothing to sweep.
    private readonly IInvoiceQuery? query = services.GetService<IInvoiceQuery>();
    private readonly GatewayMetrics? metrics = services.GetService<GatewayMetrics>();

    protected override TimeSpan SweepPeriod => Period;

    protected override string Sweeps => "invoice wake";

    protected override Task SweepOnceAsync() => Sweep();

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
            await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentWakes, TaskScheduler = TaskScheduler.Current }, async (invoice, _) =>
            {
                try
                {
                    await GrainFactory.GetGrain<IInvoiceGrain>(invoice.Id).Wake();
                    Interlocked.Increment(ref woken);
                    if (!anyWakeTime)
                    {
                        metrics?.InvoiceWoken(clock.GetUtcNow() - invoice.DueAt);
                    }
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    // Its row stays due: the next sweep tries again.
                    logger.LogWarning(error, "Invoice {Invoice} could not be woken", invoice.Id);
                }
            });
            if (due.Count < limit)
            {
                break;
            }
        }

        return woken;
    }
}
