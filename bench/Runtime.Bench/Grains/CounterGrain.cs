using CryptoPay.Runtime.Grains;

namespace CryptoPay.Runtime.Bench.Grains;

/// <summary>The grain doing the same work as the raw baseline's <c>UPDATE counters SET v = v + 1</c>.</summary>
[GrainType("bench-counter")]
public interface ICounterGrain : IGrainWithStringKey
{
    Task Add(long amount);
}

public sealed record CounterState
{
    public long Value { get; init; }
}

public sealed class CounterGrain : Grain<CounterState>, ICounterGrain
{
    public Task Add(long amount)
    {
        State = State with { Value = State.Value + amount };
        return Task.CompletedTask;
    }
}
