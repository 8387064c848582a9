using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Storage;

namespace CryptoPay.Runtime.Execution;

internal abstract class WorkItem;

/// <summary>A request/response call from a grain reference.</summary>
internal sealed class CallWork(GrainMethod method, object?[] args, bool assumeNew) : WorkItem
{
    public GrainMethod Method { get; } = method;

    public object?[] Args { get; } = args;

    /// <summary>The caller created the key just now: an unloaded activation may start from empty state.</summary>
    public bool AssumeNew { get; } = assumeNew;

    public TaskCompletionSource<object?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A reminder claimed by this silo, to fire in one turn.</summary>
internal sealed class ReminderWork(ReminderEntry reminder) : WorkItem
{
    public ReminderEntry Reminder { get; } = reminder;

    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

public enum DeliveryOutcome
{
    /// <summary>The receiving turn committed and consumed the message.</summary>
    Delivered,

    /// <summary>Another delivery consumed it first; nothing was applied twice.</summary>
    AlreadyConsumed,
}

/// <summary>An outbox message to hand to its target; consecutive messages of one grain share a turn.</summary>
internal sealed class MessageWork(GrainMessage message) : WorkItem
{
    public GrainMessage Message { get; } = message;

    public TaskCompletionSource<DeliveryOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
