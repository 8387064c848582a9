using CryptoPay.Runtime.Grains;

namespace CryptoPay.Runtime.Bench.Grains;

/// <summary>One turn sends one exactly-once message to each listed receiver.</summary>
[GrainType("bench-sender")]
public interface ISenderGrain : IGrainWithStringKey
{
    Task SendTo(string[] receiverKeys);
}

[GrainType("bench-receiver")]
public interface IReceiverGrain : IGrainWithStringKey
{
    Task Receive(long amount);
}

public sealed record SenderState
{
    public long Sent { get; init; }
}

public sealed record ReceiverState
{
    public long Received { get; init; }
}

public sealed class SenderGrain : Grain<SenderState>, ISenderGrain
{
    public Task SendTo(string[] receiverKeys)
    {
        foreach (var key in receiverKeys)
        {
            Send<IReceiverGrain>(key).Receive(1);
        }

        State = State with { Sent = State.Sent + receiverKeys.Length };
        return Task.CompletedTask;
    }
}

public sealed class ReceiverGrain : Grain<ReceiverState>, IReceiverGrain
{
    public Task Receive(long amount)
    {
        State = State with { Received = State.Received + amount };
        return Task.CompletedTask;
    }
}
