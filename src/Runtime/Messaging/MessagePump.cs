using CryptoPay.Runtime.Execution;
using CryptoPay.Runtime.Storage;

namespace CryptoPay.Runtime.Messaging;

/// <summary>
/// Delivers outbox messages whose sender did not (crashed after commit, or delivery failed and is due
/// for a retry). Runs on every silo; the outbox lease keeps two silos from taking the same message,
/// and the receiving turn's consumption of the row makes a double delivery harmless anyway.
/// </summary>
internal sealed class MessagePump(Silo silo)
    : LeasedWorkLoop<GrainMessage>(silo, "messages", silo.Options.MaxConcurrentDeliveries, silo.Options.MessagePollInterval)
{
    protected override Task<IReadOnlyList<GrainMessage>> ClaimAsync(int max, CancellationToken ct) =>
        Silo.Store.ClaimDueMessagesAsync(Silo.SiloId, Silo.TimeProvider.GetUtcNow(), Silo.Options.MessageLease, max, ct);

    protected override Task ProcessAsync(GrainMessage message) => Silo.DeliverOrDeferAsync(message);
}
