using CryptoPay.Runtime.Execution;
using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Storage;
using Microsoft.Extensions.Logging;

namespace CryptoPay.Runtime.Reminders;

/// <summary>
/// Fires due reminders on silos with the reminders role. A claimed reminder is leased to this silo;
/// its firing turn reschedules or deletes it in the same commit, so a tick is never lost, and a silo
/// that dies with claims leaves them to be fired elsewhere once the lease runs out.
/// </summary>
internal sealed class ReminderService(Silo silo)
    : LeasedWorkLoop<ReminderEntry>(silo, "reminders", silo.Options.MaxConcurrentReminders, silo.Options.ReminderPollInterval)
{
    protected override Task<IReadOnlyList<ReminderEntry>> ClaimAsync(int max, CancellationToken ct) =>
        Silo.Store.ClaimDueRemindersAsync(Silo.SiloId, Silo.TimeProvider.GetUtcNow(), Silo.Options.ReminderLease, max, ct);

    protected override async Task ProcessAsync(ReminderEntry reminder)
    {
        try
        {
            await Silo.FireReminderAsync(reminder).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not SiloUnavailableException)
        {
            Silo.Logger.LogWarning(ex, "Reminder {Reminder} of {Grain} failed; retrying in {Delay}", reminder.Name, reminder.Grain, Silo.Options.ReminderRetryDelay);
            await Silo.Store.ReleaseReminderAsync(reminder, Silo.TimeProvider.GetUtcNow() + Silo.Options.ReminderRetryDelay, CancellationToken.None)
                .ConfigureAwait(false);
        }
    }
}
