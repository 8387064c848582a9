using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Storage;

namespace CryptoPay.Runtime.Execution;

/// <summary>What one turn asked for besides its state: reminder changes and messages, applied only if the turn commits.</summary>
internal sealed class TurnContext(GrainId grain, TimeProvider time)
{
    private readonly Dictionary<string, ReminderChange> reminders = new(StringComparer.Ordinal);
    private readonly List<GrainMessage> outgoing = [];
    private readonly List<Action> afterCommit = [];
    private readonly List<(GrainCreation Creation, Action? WhenCreated)> creations = [];
    private bool closed;

    public GrainId Grain { get; } = grain;

    public GrainMessage? CurrentMessage { get; set; }

    public IReadOnlyList<ReminderChange> Reminders => [.. reminders.Values];

    public IReadOnlyList<GrainMessage> Outgoing => outgoing;

    public bool HasEffects => reminders.Count > 0 || outgoing.Count > 0 || creations.Count > 0;

    public IReadOnlyList<(GrainCreation Creation, Action? WhenCreated)> Creations => creations;

    public IReadOnlyList<Action> AfterCommitActions => afterCommit;

    public void AddAfterCommit(Action action)
    {
        EnsureOpen();
        afterCommit.Add(action);
    }

    public void SetReminder(ReminderChange change)
    {
        EnsureOpen();
        reminders[change.Name] = change;
    }

    public void Send(GrainId target, string method, string argsJson, bool onlyIfTargetExists)
    {
        EnsureOpen();
        var now = time.GetUtcNow();
        outgoing.Add(new GrainMessage(Guid.CreateVersion7(now), target, method, argsJson, Grain, now, now, OnlyIfTargetExists: onlyIfTargetExists));
    }

    public void Create(GrainCreation creation, Action? whenCreated)
    {
        EnsureOpen();
        if (creation.Grain == Grain || creations.Exists(c => c.Creation.Grain == creation.Grain))
        {
            throw new GrainUsageException($"Grain {Grain} creates {creation.Grain} twice in one turn, or creates itself.");
        }

        creations.Add((creation, whenCreated));
    }

    public void Close() => closed = true;

    private void EnsureOpen()
    {
        if (closed)
        {
            throw new GrainUsageException($"Grain {Grain} used a reference of a turn that has already ended; take a new one inside each turn.");
        }
    }
}

/// <summary>Per-activation link from a grain instance to its silo and its current turn.</summary>
internal sealed class GrainContext(GrainId id, Silo silo)
{
    public GrainId Id { get; } = id;

    public Silo Silo { get; } = silo;

    public TurnContext? CurrentTurn { get; set; }
}
