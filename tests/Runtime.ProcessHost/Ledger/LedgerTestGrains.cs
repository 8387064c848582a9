using CryptoPay.Runtime.Grains;

namespace CryptoPay.Runtime.ProcessHost.Ledger;

/// <summary>A grain applying operations by id; each one is also sent, as a message, to the total.</summary>
[GrainType("test-ledger")]
public interface ILedgerTestGrain : IGrainWithStringKey
{
    /// <summary>Applies the operation and returns the new value; an op id seen before is applied again and recorded as a duplicate.</summary>
    Task<long> Apply(string opId, long amount);

    Task<LedgerSnapshot> GetSnapshot();
}

/// <summary>The aggregate of every ledger grain, fed only by messages, so it shows whether messages apply exactly once.</summary>
[GrainType("test-total")]
public interface ITotalTestGrain : IGrainWithStringKey
{
    Task Add(string opId, long amount);

    Task<LedgerSnapshot> GetSnapshot();
}

/// <summary>Applied op ids with how often each was applied; any count above one is also listed in <see cref="Duplicates"/>.</summary>
public sealed record LedgerTestState
{
    public long Value { get; set; }

    public Dictionary<string, int> Ops { get; set; } = new(StringComparer.Ordinal);

    public List<string> Duplicates { get; set; } = [];

    public void Record(string opId, long amount)
    {
        var times = Ops.GetValueOrDefault(opId) + 1;
        Ops[opId] = times;
        if (times > 1)
        {
            Duplicates.Add(opId);
        }

        Value += amount;
    }

    /// <summary>A copy: the state object itself keeps changing in later turns while a caller serialises the answer.</summary>
    public LedgerSnapshot Snapshot() => new(Value, new Dictionary<string, int>(Ops, StringComparer.Ordinal), [.. Duplicates]);
}

public sealed record LedgerSnapshot(long Value, IReadOnlyDictionary<string, int> Ops, IReadOnlyList<string> Duplicates);

public sealed class LedgerTestGrain : Grain<LedgerTestState>, ILedgerTestGrain
{
    public const string TotalKey = "total";

    public Task<long> Apply(string opId, long amount)
    {
        ArgumentException.ThrowIfNullOrEmpty(opId);
        State.Record(opId, amount);
        Send<ITotalTestGrain>(TotalKey).Add(opId, amount);
        return Task.FromResult(State.Value);
    }

    public Task<LedgerSnapshot> GetSnapshot() => Task.FromResult(State.Snapshot());
}

public sealed class TotalTestGrain : Grain<LedgerTestState>, ITotalTestGrain
{
    public Task Add(string opId, long amount)
    {
        State.Record(opId, amount);
        return Task.CompletedTask;
    }

    public Task<LedgerSnapshot> GetSnapshot() => Task.FromResult(State.Snapshot());
}
