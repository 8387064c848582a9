using System.Text.Json;
using CryptoPay.Runtime.Execution;
using CryptoPay.Runtime.Storage;

namespace CryptoPay.Runtime.Grains;

/// <summary>
/// Base class of every grain. A grain's methods run as turns: one at a time per grain, cluster-wide.
/// Whatever a turn does through this class (state, reminders, messages) commits atomically with it.
/// A turn may be replayed when another silo changed the grain first, so a turn must act only through
/// its state, reminders and messages, never through network or file I/O.
/// </summary>
public abstract class Grain
{
    private GrainContext? context;

    internal void Attach(GrainContext grainContext) => context = grainContext;

    private GrainContext Context =>
        context ?? throw new GrainUsageException("This grain was not activated by the runtime; create it with a grain factory.");

    private TurnContext Turn =>
        Context.CurrentTurn ?? throw new GrainUsageException($"Grain {GrainId} used its turn API outside a turn.");

    protected GrainId GrainId => Context.Id;

    protected string GetPrimaryKeyString() => Context.Id.Key;

    protected Guid GetPrimaryKey() => Guid.Parse(Context.Id.Key);

    /// <summary>References for request/response calls to other grains (not part of this turn's commit).</summary>
    protected IGrainFactory GrainFactory => Context.Silo.GrainFactory;

    protected TimeProvider TimeProvider => Context.Silo.TimeProvider;

    protected DateTimeOffset Now => Context.Silo.TimeProvider.GetUtcNow();

    /// <summary>Id of the message being handled when this turn delivers a message; null otherwise. Unique per message, stable across redeliveries.</summary>
    protected Guid? CurrentMessageId => Turn.CurrentMessage?.Id;

    /// <summary>Registers (or moves) a durable reminder, first due after <paramref name="dueIn"/>, repeating every <paramref name="period"/> when given.</summary>
    protected void RegisterOrUpdateReminder(string name, TimeSpan dueIn, TimeSpan? period = null) =>
        RegisterReminderAt(name, Now + (dueIn < TimeSpan.Zero ? TimeSpan.Zero : dueIn), period);

    protected void RegisterReminderAt(string name, DateTimeOffset dueAt, TimeSpan? period = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (period is { } p && p < TimeSpan.FromMilliseconds(100))
        {
            throw new GrainUsageException($"Reminder '{name}': a period must be at least 100 ms.");
        }

        if (this is not IRemindable)
        {
            throw new GrainUsageException($"Grain {GrainId} registers reminder '{name}' but does not implement IRemindable.");
        }

        Turn.SetReminder(Rounded(name, dueAt, period));
    }

    /// <summary>Stored times have microsecond precision: round up so a reminder can never fire early.</summary>
    private static ReminderChange Rounded(string name, DateTimeOffset dueAt, TimeSpan? period)
    {
        var dueTicks = (dueAt.UtcTicks + 9) / 10 * 10;
        var periodRounded = period is { } pr ? TimeSpan.FromMilliseconds(Math.Ceiling(pr.TotalMilliseconds)) : (TimeSpan?)null;
        return new ReminderChange(name, new DateTimeOffset(dueTicks, TimeSpan.Zero), periodRounded);
    }

    protected void UnregisterReminder(string name) => Turn.SetReminder(new ReminderChange(name, null, null));

    /// <summary>
    /// Runs <paramref name="action"/> once this turn has committed, outside the turn, and never if it
    /// does not (a replayed turn registers it again). For handing work to I/O outside the turn
    /// (e.g. an HTTP send queue); keep it short: it runs before the grain's next turn.
    /// </summary>
    protected void AfterCommit(Action action)
    {
        ArgumentNullException.ThrowIfNull(action);
        Turn.AddAfterCommit(action);
    }

    /// <summary>
    /// A reference whose calls become messages sent by this turn: written with the turn's commit,
    /// delivered after it, retried until the receiving turn commits, applied exactly once.
    /// Methods called this way must return Task or ValueTask.
    /// </summary>
    protected TGrain Send<TGrain>(string key) where TGrain : IGrainWithStringKey =>
        Context.Silo.CreateMessageProxy<TGrain>(key, Turn);

    protected TGrain Send<TGrain>(Guid key) where TGrain : IGrainWithGuidKey =>
        Context.Silo.CreateMessageProxy<TGrain>(key.ToString("D"), Turn);

    /// <summary>
    /// Like <see cref="Send{TGrain}(string)"/>, but the message is written only if the target grain has stored
    /// state when this turn commits (decided inside the commit's transaction), and is dropped otherwise. For
    /// notifications a grain that was never written has nothing to do with (e.g. events for a merchant who
    /// never configured a webhook endpoint): they cost no outbox row and no receiving turn.
    /// </summary>
    protected TGrain SendIfExists<TGrain>(string key) where TGrain : IGrainWithStringKey =>
        Context.Silo.CreateMessageProxy<TGrain>(key, Turn, onlyIfTargetExists: true);

    /// <summary>
    /// Creates grain <paramref name="key"/> of <typeparamref name="TGrain"/> with this turn's commit, holding
    /// <paramref name="state"/> (its own state type) and the given one-shot <paramref name="reminders"/>, if it has no
    /// stored state when the commit runs (decided inside the commit's transaction); otherwise nothing of it is written
    /// and the existing grain is left alone. <paramref name="whenCreated"/> runs after the commit, like
    /// <see cref="AfterCommit"/>, only if this turn is known to have created the grain (not after a commit whose outcome
    /// a lost connection hid: the created grain's reminders must be its way to recover). Saves the message, the load of a
    /// grain that cannot exist yet and the turn a grain would otherwise spend storing what its creator already knew.
    /// </summary>
    protected void CreateIfAbsent<TGrain, TState>(string key, TState state, IReadOnlyList<(string Name, TimeSpan DueIn)> reminders, Action? whenCreated = null)
        where TGrain : IGrainWithStringKey
        where TState : class, new()
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(reminders);
        var now = Now;
        var changes = reminders.Select(r => Rounded(r.Name, now + (r.DueIn < TimeSpan.Zero ? TimeSpan.Zero : r.DueIn), null)).ToList();
        Turn.Create(Context.Silo.DescribeCreation<TGrain, TState>(key, state, changes), whenCreated);
    }

    /// <summary>The state as committed text, UTF-8 (half the memory of a string in every idle activation); the stateless base has none.</summary>
    internal virtual byte[] SerializeState(JsonSerializerOptions options) => "{}"u8.ToArray();

    internal virtual void RestoreState(string? json, JsonSerializerOptions options)
    {
    }

    internal virtual void RestoreState(ReadOnlySpan<byte> json, JsonSerializerOptions options)
    {
    }

    internal virtual object? StateObject => null;
}

/// <summary>A grain with private, persistent state. <typeparamref name="TState"/> should be a small record.</summary>
public abstract class Grain<TState> : Grain where TState : class, new()
{
    protected TState State { get; set; } = new();

    internal override byte[] SerializeState(JsonSerializerOptions options) => JsonSerializer.SerializeToUtf8Bytes(State, options);

    internal override void RestoreState(string? json, JsonSerializerOptions options) =>
        State = json is null ? new TState() : JsonSerializer.Deserialize<TState>(json, options) ?? new TState();

    internal override void RestoreState(ReadOnlySpan<byte> json, JsonSerializerOptions options) =>
        State = JsonSerializer.Deserialize<TState>(json, options) ?? new TState();

    internal override object? StateObject => State;
}
