using Microsoft.Extensions.Logging;

namespace CryptoPay.Runtime.Execution;

/// <summary>
/// A background loop that claims leased work from the store (reminders, outbox messages), runs each
/// item concurrently up to a limit, and polls again: at once while there is work, else after the poll
/// interval or a wake-up. The lease in the store, not this loop, decides who owns an item.
/// </summary>
internal abstract class LeasedWorkLoop<T>(Silo silo, string name, int maxConcurrent, TimeSpan pollInterval)
{
    private readonly AsyncSignal wake = new();
    private readonly AsyncSignal slotFreed = new();
    private int inFlight;
    private int busy;

    protected Silo Silo { get; } = silo;

    public int InFlight => Volatile.Read(ref inFlight);

    /// <summary>Claims under way plus items running: zero means this loop holds no work the silo has not seen finish.</summary>
    public bool IsBusy => Volatile.Read(ref busy) > 0;

    public void Wake() => wake.Set();

    protected abstract Task<IReadOnlyList<T>> ClaimAsync(int max, CancellationToken ct);

    protected abstract Task ProcessAsync(T item);

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                var claimed = await PollOnceAsync(waitForCompletion: false, ct).ConfigureAwait(false);
                if (claimed == 0)
                {
                    var woken = wake.WaitAsync();
                    await Task.WhenAny(Task.Delay(pollInterval, Silo.TimeProvider, ct), woken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                Silo.Logger.LogWarning(ex, "{Loop} poll failed on silo {SiloId}; retrying after {Interval}", name, Silo.SiloId, pollInterval);
                try
                {
                    await Task.Delay(pollInterval, Silo.TimeProvider, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Claims what fits under the concurrency limit and starts it; returns how many items were claimed (or 1 when full).</summary>
    public async Task<int> PollOnceAsync(bool waitForCompletion, CancellationToken ct)
    {
        var free = maxConcurrent - Volatile.Read(ref inFlight);
        if (free <= 0)
        {
            await slotFreed.WaitAsync().WaitAsync(ct).ConfigureAwait(false);
            return 1;
        }

        IReadOnlyList<T> items;
        Interlocked.Increment(ref busy);
        try
        {
            items = await ClaimAsync(free, ct).ConfigureAwait(false);
            for (var i = 0; i < items.Count; i++)
            {
                Interlocked.Increment(ref inFlight);
                Interlocked.Increment(ref busy);
            }
        }
        finally
        {
            Done();
        }

        if (items.Count == 0)
        {
            return 0;
        }

        var running = new Task[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            running[i] = TrackAsync(items[i]);
        }

        if (waitForCompletion)
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }

        return items.Count;
    }

    private async Task TrackAsync(T item)
    {
        try
        {
            await ProcessAsync(item).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Silo.Logger.LogWarning(ex, "{Loop} item failed on silo {SiloId}", name, Silo.SiloId);
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
            slotFreed.Set();
            Done();
        }
    }

    private void Done()
    {
        if (Interlocked.Decrement(ref busy) == 0)
        {
            Silo.SignalIdleCheck();
        }
    }
}
