using Microsoft.Extensions.Options;
using Orleans.Reminders.Diagnostics;

namespace CryptoPay.Silo.Hosting;

/// <summary>How long a starting silo waits for its reminder service (<see cref="ReminderServiceReadiness"/>).</summary>
public sealed class ReminderStartupOptions
{
    /// <summary>
    /// Covers Orleans' own retries of a failed first read (the second 0–30 s after it, the third 10–20 s after that); a
    /// silo whose reminders are still not loaded then stops, rather than stay in the cluster refusing its range's reminders.
    /// </summary>
    public TimeSpan LoadTimeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Holds the silo's start-up until its reminder service has read its range of the reminder table. Orleans starts that
/// service only once the silo is active, reads in the background, and retries a failed read 0–30 s later; until a read
/// succeeds, registering a reminder for a grain in the silo's range waits and then fails after 20 s ("Reminder Service is
/// still initializing"). A silo whose first read failed (PostgreSQL out of connection slots, a restart) therefore
/// answered HTTP at once while every invoice created in its range stalled 20 s and failed. Waiting here keeps the HTTP
/// port closed until reminders work (Kestrel starts after the silo), makes a test cluster's deploy return only then, and
/// stops a silo whose reminders do not load within <see cref="ReminderStartupOptions.LoadTimeout"/> with one line.
/// </summary>
internal sealed class ReminderServiceReadiness(ILocalSiloDetails silo, IOptions<ReminderStartupOptions> options)
    : ILifecycleParticipant<ISiloLifecycle>, IObserver<ReminderEvents.ReminderServiceEvent>
{
    private readonly TaskCompletionSource loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IDisposable? subscription;

    public void Participate(ISiloLifecycle lifecycle)
    {
        // Listening from before the service starts (at Active), so its one "started" event cannot be missed.
        lifecycle.Subscribe(nameof(ReminderServiceReadiness), ServiceLifecycleStage.RuntimeInitialize, Listen, StopListening);
        lifecycle.Subscribe(nameof(ReminderServiceReadiness), ServiceLifecycleStage.Active + 1, WaitUntilLoadedAsync, _ => Task.CompletedTask);
    }

    private Task Listen(CancellationToken cancellationToken)
    {
        subscription = ReminderEvents.ServiceEvents.Subscribe(this);
        return Task.CompletedTask;
    }

    private Task StopListening(CancellationToken cancellationToken)
    {
        // Listening enables every reminder event of the process (ticks, registrations), so it lasts only until the load.
        Interlocked.Exchange(ref subscription, null)?.Dispose();
        return Task.CompletedTask;
    }

    private async Task WaitUntilLoadedAsync(CancellationToken cancellationToken)
    {
        var timeout = options.Value.LoadTimeout;
        try
        {
            await loaded.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException error)
        {
            throw new SiloStartupException(
                $"the reminder service of silo {silo.SiloAddress} did not load its reminders within {timeout.TotalSeconds:0} s " +
                "(Orleans logs why its reads of the reminder table failed)", error);
        }
        finally
        {
            await StopListening(cancellationToken);
        }
    }

    void IObserver<ReminderEvents.ReminderServiceEvent>.OnNext(ReminderEvents.ReminderServiceEvent value)
    {
        // Every silo of the process reports here (test clusters host several): only this one's counts.
        if (value is ReminderEvents.ReminderServiceStarted && Equals(value.SiloAddress, silo.SiloAddress))
        {
            loaded.TrySetResult();
        }
    }

    void IObserver<ReminderEvents.ReminderServiceEvent>.OnError(Exception error)
    {
    }

    void IObserver<ReminderEvents.ReminderServiceEvent>.OnCompleted()
    {
    }
}
