namespace CryptoPay.Runtime.Execution;

/// <summary>A wake-up that many may await; Set releases every current waiter.</summary>
internal sealed class AsyncSignal
{
    private readonly Lock gate = new();
    private TaskCompletionSource current = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WaitAsync()
    {
        lock (gate)
        {
            return current.Task;
        }
    }

    public void Set()
    {
        TaskCompletionSource released;
        lock (gate)
        {
            released = current;
            current = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        released.TrySetResult();
    }
}
