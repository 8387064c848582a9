using System.Collections.Concurrent;
using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Postgres;

namespace CryptoPay.Runtime.Tests.Grains;

/// <summary>Failures and gates that tests switch on from outside a grain (state would roll back with the failing turn).</summary>
public sealed class TestControl
{
    private readonly ConcurrentDictionary<string, int> failures = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> gates = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> entered = new();

    public void FailNext(string key, int times) => failures[key] = times;

    public bool ShouldFail(string key)
    {
        while (failures.TryGetValue(key, out var left) && left > 0)
        {
            if (failures.TryUpdate(key, left - 1, left))
            {
                return true;
            }
        }

        return false;
    }

    public TaskCompletionSource Gate(string key) => gates.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public TaskCompletionSource Entered(string key) => entered.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public ConcurrentQueue<(string Grain, string Reminder, DateTimeOffset DueAt, DateTimeOffset FiredAt)> Ticks { get; } = new();

    public ConcurrentQueue<long> Announced { get; } = new();
}

public sealed record CounterState
{
    public long Value { get; set; }

    public string? Label { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

[GrainType("test-counter")]
public interface ICounterGrain : IGrainWithStringKey
{
    Task<long> Add(long amount);

    Task<long> Get();

    [CachedRead(1000)]
    Task<long> GetCached();

    [CachedRead(1000, Shared = true)]
    Task<long> GetShared();

    Task SetLabel(string label);

    /// <summary>Changes state, registers a reminder and sends a message, then throws: nothing may remain.</summary>
    Task AddEverythingThenThrow(long amount, string accumulator);

    /// <summary>Adds and sends the same amount to an accumulator, exactly once.</summary>
    Task<long> AddAndForward(long amount, string accumulator, string operation);

    /// <summary>Adds, and after commit records the new value with the test; throws afterwards when asked.</summary>
    Task<long> AddAndAnnounce(long amount, bool thenThrow);

    /// <summary>Blocks inside the turn until the test opens the gate.</summary>
    Task<long> AddWhenGateOpens(long amount, string gate);

    /// <summary>Adds and sends the amount to an accumulator only if that accumulator has stored state.</summary>
    Task<long> AddAndForwardIfStored(long amount, string accumulator, string operation);

    /// <summary>
    /// Adds, and creates each counter of <paramref name="keys"/> holding <paramref name="value"/> with a "created" reminder
    /// if it has no stored state; each counter this turn created announces <paramref name="value"/>. Throws afterwards when asked.
    /// </summary>
    Task<long> AddAndCreate(long amount, IReadOnlyList<string> keys, long value, bool thenThrow);
}

public sealed class CounterGrain(TestControl control) : Grain<CounterState>, ICounterGrain, IRemindable
{
    public static readonly StateProjection<CounterState> Projection = new StateProjection<CounterState>("test_counters")
        .Column("value", ProjectionColumnType.BigInt, s => s.Value)
        .Column("label", ProjectionColumnType.Text, s => s.Label)
        .Column("updated_at", ProjectionColumnType.TimestampTz, s => s.UpdatedAt);

    public static IMigrationSource Migrations { get; } =
        new EmbeddedMigrations(typeof(CounterGrain).Assembly, "runtime-tests", "CryptoPay.Runtime.Tests.Migrations.");

    public Task<long> Add(long amount)
    {
        State.Value += amount;
        State.UpdatedAt = Now;
        return Task.FromResult(State.Value);
    }

    public Task<long> Get() => Task.FromResult(State.Value);

    public Task<long> GetCached() => Task.FromResult(State.Value);

    public Task<long> GetShared() => Task.FromResult(State.Value);

    public Task SetLabel(string label)
    {
        State.Label = label;
        State.UpdatedAt = Now;
        return Task.CompletedTask;
    }

    public async Task AddEverythingThenThrow(long amount, string accumulator)
    {
        State.Value += amount;
        RegisterOrUpdateReminder("doomed", TimeSpan.FromSeconds(1));
        await Send<IAccumulatorGrain>(accumulator).Credit($"doomed-{GetPrimaryKeyString()}", amount);
        throw new InvalidOperationException("turn fails after doing everything");
    }

    public async Task<long> AddAndForward(long amount, string accumulator, string operation)
    {
        State.Value += amount;
        await Send<IAccumulatorGrain>(accumulator).Credit(operation, amount);
        return State.Value;
    }

    public Task<long> AddAndAnnounce(long amount, bool thenThrow)
    {
        State.Value += amount;
        var value = State.Value;
        AfterCommit(() => control.Announced.Enqueue(value));
        if (thenThrow)
        {
            throw new InvalidOperationException("turn fails after asking for an after-commit action");
        }

        return Task.FromResult(value);
    }

    public async Task<long> AddWhenGateOpens(long amount, string gate)
    {
        control.Entered(gate).TrySetResult();
        await control.Gate(gate).Task;
        State.Value += amount;
        return State.Value;
    }

    public async Task<long> AddAndForwardIfStored(long amount, string accumulator, string operation)
    {
        State.Value += amount;
        await SendIfExists<IAccumulatorGrain>(accumulator).Credit(operation, amount);
        return State.Value;
    }

    public Task<long> AddAndCreate(long amount, IReadOnlyList<string> keys, long value, bool thenThrow)
    {
        State.Value += amount;
        foreach (var key in keys)
        {
            CreateIfAbsent<ICounterGrain, CounterState>(
                key, new CounterState { Value = value, Label = "created", UpdatedAt = Now }, [("created", TimeSpan.FromSeconds(10))], () => control.Announced.Enqueue(value));
        }

        if (thenThrow)
        {
            throw new InvalidOperationException("turn fails after creating grains");
        }

        return Task.FromResult(State.Value);
    }

    public Task ReceiveReminder(string reminderName, ReminderTick tick) => Task.CompletedTask;
}

public sealed record AccumulatorState
{
    public long Total { get; set; }

    public Dictionary<string, int> Operations { get; set; } = [];

    public List<Guid> MessageIds { get; set; } = [];
}

[GrainType("test-accumulator")]
public interface IAccumulatorGrain : IGrainWithStringKey
{
    Task Credit(string operation, long amount);

    Task<AccumulatorState> Read();
}

public sealed class AccumulatorGrain(TestControl control) : Grain<AccumulatorState>, IAccumulatorGrain
{
    public Task Credit(string operation, long amount)
    {
        if (control.ShouldFail(GetPrimaryKeyString()))
        {
            throw new InvalidOperationException("receiver fails on purpose");
        }

        State.Total += amount;
        State.Operations[operation] = State.Operations.GetValueOrDefault(operation) + 1;
        State.MessageIds.Add(CurrentMessageId ?? Guid.Empty);
        return Task.CompletedTask;
    }

    public Task<AccumulatorState> Read() => Task.FromResult(State);
}

public sealed record AlarmState
{
    public List<string> Fired { get; set; } = [];
}

[GrainType("test-alarm")]
public interface IAlarmGrain : IGrainWithStringKey
{
    Task Schedule(string name, TimeSpan dueIn, TimeSpan? period);

    Task Cancel(string name);

    Task<IReadOnlyList<string>> Fired();
}

public sealed class AlarmGrain(TestControl control) : Grain<AlarmState>, IAlarmGrain, IRemindable
{
    public Task Schedule(string name, TimeSpan dueIn, TimeSpan? period)
    {
        RegisterOrUpdateReminder(name, dueIn, period);
        return Task.CompletedTask;
    }

    public Task Cancel(string name)
    {
        UnregisterReminder(name);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> Fired() => Task.FromResult<IReadOnlyList<string>>(State.Fired);

    public Task ReceiveReminder(string reminderName, ReminderTick tick)
    {
        if (control.ShouldFail(GetPrimaryKeyString()))
        {
            throw new InvalidOperationException("reminder handler fails on purpose");
        }

        State.Fired.Add(reminderName);
        control.Ticks.Enqueue((GetPrimaryKeyString(), reminderName, tick.DueAt, tick.FiredAt));
        return Task.CompletedTask;
    }
}

public static class TestGrainRegistration
{
    public static void Register(GrainTypeRegistry registry) => registry
        .Add<ICounterGrain, CounterGrain>(CounterGrain.Projection)
        .Add<IAccumulatorGrain, AccumulatorGrain>()
        .Add<IAlarmGrain, AlarmGrain>();
}

/// <summary>Misuse: a shared cached read whose answer a caller could change under the others.</summary>
public interface IBadSharedReadGrain : IGrainWithStringKey
{
    [CachedRead(500, Shared = true)]
    Task<List<long>> GetValues();
}

public sealed class BadSharedReadGrain : Grain<CounterState>, IBadSharedReadGrain
{
    public Task<List<long>> GetValues() => Task.FromResult(new List<long> { State.Value });
}
