using Microsoft.Extensions.Logging;
using Orleans;

namespace CryptoPay.Grains.Effects;

/// <summary>An effect one grain has on another grain's state, named by a deterministic id the receiver applies once.</summary>
public interface IGrainEffect
{
    string Id { get; }
}

/// <summary>
/// A sender's effects not yet acknowledged, kept in the sender's own state (ARCHITECTURE.md, guarantee 3): the sender
/// adds an effect in the same state write as the change that causes it, then delivers it; an effect leaves the outbox
/// only once its receiver has answered, so a crash anywhere in between leaves it here to be delivered again (on the
/// sender's next activation or its redelivery reminder). Receivers apply each id once (<see cref="AppliedEffects"/>),
/// which makes the redelivery harmless. Effects are delivered in the order they were added.
/// </summary>
[GenerateSerializer]
public sealed class EffectOutbox<TEffect> where TEffect : IGrainEffect
{
    [Id(0)]
    public List<TEffect> Pending { get; set; } = [];

    public bool IsEmpty => Pending.Count == 0;

    /// <summary>Adds the effect unless one with its id is pending already (a turn repeated after a failed write).</summary>
    public bool Add(TEffect effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        ArgumentException.ThrowIfNullOrEmpty(effect.Id);
        if (Pending.Exists(e => e.Id == effect.Id))
        {
            return false;
        }

        Pending.Add(effect);
        return true;
    }

    /// <summary>
    /// Delivers pending effects in order until one fails, and removes the delivered ones from the outbox (the caller
    /// writes its state afterwards; until then a crash only means delivering them again). Returns how many were delivered.
    /// </summary>
    public Task<int> DeliverAsync(Func<TEffect, Task> deliver, ILogger logger) => DeliverAsync(deliver, static _ => "", logger);

    /// <summary>
    /// How many receivers one sender delivers to at the same time: a block's thousand payments proceed 256 at a time. The
    /// database connections they need stay bounded by the projected storage's batches (<see cref="Storage.StatementBatcher"/>),
    /// which commit their writes together, so the more deliveries in flight, the fuller each batch. Measured on 2 cores
    /// (docs/BENCHMARKS.md, deposits of one block): 32 at a time ~890/s, 128 ~1,000/s with the machine idle a quarter of
    /// the time in some rounds, 256 1,120–1,360/s.
    /// </summary>
    public const int MaxConcurrentReceivers = 256;

    /// <summary>
    /// Like <see cref="DeliverAsync(Func{TEffect, Task}, ILogger)"/>, but in order per receiver only: the effects of
    /// different receivers (<paramref name="receiverOf"/>) are delivered side by side, up to
    /// <see cref="MaxConcurrentReceivers"/> at a time, and a receiver that fails holds back only its own later effects.
    /// </summary>
    public async Task<int> DeliverAsync(Func<TEffect, Task> deliver, Func<TEffect, string> receiverOf, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(deliver);
        ArgumentNullException.ThrowIfNull(receiverOf);
        var delivered = new HashSet<object>(ReferenceEqualityComparer.Instance);
        async Task DeliverLaneAsync(IEnumerable<TEffect> lane)
        {
            foreach (var effect in lane)
            {
                try
                {
                    await deliver(effect);
                }
                catch (Exception error)
                {
                    logger.LogWarning("Effect {EffectId} was not acknowledged ({Error}); it stays pending and is delivered again.", effect.Id, error.Message);
                    return;
                }

                lock (delivered)
                {
                    delivered.Add(effect);
                }
            }
        }

        var groups = Pending.ToList().GroupBy(receiverOf, StringComparer.Ordinal).ToList();
        if (groups.Count == 1)
        {
            // One receiver (an invoice's creation: its webhook events): nothing to run side by side.
            await DeliverLaneAsync(groups[0]);
        }
        else
        {
            await Parallel.ForEachAsync(groups, new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentReceivers, TaskScheduler = TaskScheduler.Current },
                async (lane, _) => await DeliverLaneAsync(lane));
        }

        Pending.RemoveAll(e => delivered.Contains(e));
        return delivered.Count;
    }
}

/// <summary>
/// The ids of effects a receiver has applied, kept in the receiver's state and written with the change each effect
/// made, so a redelivered effect is recognised and ignored. Ids are kept in order of arrival; a receiver whose
/// senders can only redeliver recent effects may bound the list (<see cref="TryApply"/>'s capacity), one whose
/// senders are few and long-lived keeps them all.
/// </summary>
[GenerateSerializer]
public sealed class AppliedEffects
{
    [Id(0)]
    public List<string> Ids { get; set; } = [];

    public bool Contains(string id) => Ids.Contains(id);

    /// <summary>True (and the id recorded) when the effect was not applied before: the caller applies it now, in the same state write.</summary>
    public bool TryApply(string id, int capacity = int.MaxValue)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (Ids.Contains(id))
        {
            return false;
        }

        Ids.Add(id);
        if (Ids.Count > capacity)
        {
            Ids.RemoveRange(0, Ids.Count - capacity);
        }

        return true;
    }
}
