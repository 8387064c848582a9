namespace CryptoPay.OrleansProcessHost;

/// <summary>A counter whose state round-trips through the configured storage; answers with where it runs.</summary>
[Alias("test.counter")]
public interface ICounterGrain : IGrainWithStringKey
{
    [Alias("add")]
    Task<CounterReading> AddAsync(int amount);

    [Alias("read")]
    Task<CounterReading> ReadAsync();
}

/// <summary>The same interface on a second grain class, stored under its own state name.</summary>
[Alias("test.tally")]
public interface ITallyGrain : ICounterGrain;

/// <summary>A third class that reuses the counter's state name: it shares the counter's row (see docs/ORLEANS.md).</summary>
[Alias("test.colliding")]
public interface ICollidingGrain : ICounterGrain;

[GenerateSerializer]
[Alias("test.counter-reading")]
public sealed record CounterReading([property: Id(0)] int Total, [property: Id(1)] string? ETag, [property: Id(2)] string Silo);

[GenerateSerializer]
[Alias("test.counter-state")]
public sealed class CounterState
{
    [Id(0)]
    public int Total { get; set; }
}

public abstract class CounterGrainBase(IPersistentState<CounterState> state, ILocalSiloDetails silo) : Grain
{
    public async Task<CounterReading> AddAsync(int amount)
    {
        state.State.Total += amount;
        await state.WriteStateAsync();
        return Reading();
    }

    public Task<CounterReading> ReadAsync() => Task.FromResult(Reading());

    private CounterReading Reading() => new(state.State.Total, state.Etag, silo.SiloAddress.ToString());
}

public sealed class CounterGrain([PersistentState("test-counter")] IPersistentState<CounterState> state, ILocalSiloDetails silo) : CounterGrainBase(state, silo), ICounterGrain;

public sealed class TallyGrain([PersistentState("test-tally")] IPersistentState<CounterState> state, ILocalSiloDetails silo) : CounterGrainBase(state, silo), ITallyGrain;

public sealed class CollidingGrain([PersistentState("test-counter")] IPersistentState<CounterState> state, ILocalSiloDetails silo) : CounterGrainBase(state, silo), ICollidingGrain;

/// <summary>Counts its reminder's ticks in its stored state, with the silo each tick ran on.</summary>
[Alias("test.ticker")]
public interface ITickerGrain : IGrainWithStringKey
{
    [Alias("start")]
    Task<string> StartAsync(TimeSpan period);

    [Alias("ticks")]
    Task<TickerState> TicksAsync();
}

[GenerateSerializer]
[Alias("test.ticker-state")]
public sealed class TickerState
{
    [Id(0)]
    public int Ticks { get; set; }

    [Id(1)]
    public string? LastSilo { get; set; }
}

public sealed class TickerGrain([PersistentState("test-ticker")] IPersistentState<TickerState> state, ILocalSiloDetails silo) : Grain, ITickerGrain, IRemindable
{
    public async Task<string> StartAsync(TimeSpan period)
    {
        await this.RegisterOrUpdateReminder("tick", period, period);
        return silo.SiloAddress.ToString();
    }

    public Task<TickerState> TicksAsync() => Task.FromResult(state.State);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        state.State.Ticks++;
        state.State.LastSilo = silo.SiloAddress.ToString();
        await state.WriteStateAsync();
    }
}
