using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Effects;

/// <summary>
/// Wakes every grain that has a wake reminder, now, whatever the reminder's own due time: each does what is due by the
/// gateway clock and delivers what it has pending; then runs the webhook lease sweep (webhook deliveries keep no
/// reminder each: <see cref="Webhooks.WebhookLeaseSweeperGrain"/> resumes those whose attempt time has passed) and wakes
/// every invoice that has a wake time (invoices keep no reminder either: <see cref="Invoices.InvoiceWakeSweeperGrain"/>). Orleans fires reminders on its own (real) clock; tests and
/// benchmarks that move a fake gateway clock use this to run what became due, without waiting for the next tick.
/// </summary>
public static class DueWork
{
    /// <summary>Returns how many grains were woken.</summary>
    public static async Task<int> WakeAllAsync(IReminderTable reminders, IGrainFactory grains)
    {
        ArgumentNullException.ThrowIfNull(reminders);
        ArgumentNullException.ThrowIfNull(grains);
        // (0, max] and then the wrap-around range (max, 0]: every hash once.
        var entries = (await reminders.ReadRows(0, uint.MaxValue)).Reminders.Concat((await reminders.ReadRows(uint.MaxValue, 0)).Reminders);
        var due = entries.Where(r => r.ReminderName == EffectGrain<object>.WakeReminder).Select(r => r.GrainId).Distinct().ToList();
        await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = EffectOutbox<GrainEffect>.MaxConcurrentReceivers }, async (id, _) =>
            await grains.GetGrain<IWakeable>(id).Wake());
        return due.Count + await grains.GetGrain<Webhooks.IWebhookLeaseSweeperGrain>(Webhooks.WebhookLeaseSweeperGrain.Key).Sweep()
            + await grains.GetGrain<Invoices.IInvoiceWakeSweeperGrain>(Invoices.InvoiceWakeSweeperGrain.Key).Sweep(anyWakeTime: true);
    }
}
