namespace CryptoPay.Grains.Storage;

/// <summary>
/// A stored state that holds effects sent but not yet known delivered (a grain's outbox), in a projection that keeps
/// track of them in a table of their own (<see cref="TableProjection.PendingEffectsTable"/>). A write of a state whose
/// <see cref="RetryAt"/> is set puts a row of its version there, in the same statement; once the effects are delivered,
/// the grain deletes that row (<see cref="ProjectedGrainStorage.EffectsDeliveredAsync{T}"/>) instead of writing its
/// whole state again, and a state read back without a row of its own version has its stored effects dropped as delivered.
/// </summary>
public interface IPendingEffectsRecord
{
    /// <summary>When the effects this state holds are to be retried; null when it holds none. Stored in the pending-effects table, not in the state.</summary>
    DateTimeOffset? RetryAt { get; }

    /// <summary>
    /// Called on reading the state back: its stored effects are pending, to be retried at <paramref name="retryAt"/>, or
    /// (null) they were all delivered after it was written.
    /// </summary>
    void Restore(DateTimeOffset? retryAt);
}
