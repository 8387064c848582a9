using System.Text.Json.Serialization;
using CryptoPay.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace CryptoPay.Grains.Effects;

/// <summary>
/// What a grain built on <see cref="EffectGrain{TState}"/> stores: its own state, the effects it sent that their
/// receivers have not answered yet, how many effects it has numbered, and the highest effect number it applied from
/// each grain that sends it effects.
/// </summary>
[GenerateSerializer]
[Alias("cryptopay.grain-record")]
public sealed class GrainRecord<TState> : IPendingEffectsRecord where TState : class, new()
{
    [Id(0)]
    public TState State { get; set; } = new();

    [Id(1)]
    public EffectOutbox<GrainEffect> Outbox { get; set; } = new();

    [Id(2)]
    public long EffectsSent { get; set; }

    [Id(3)]
    public Dictionary<string, long> Received { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// When the grain next has time-driven work (its due time), for grains woken by a sweep of this time instead of a
    /// reminder each (<see cref="EffectGrain{TState}.WokenBySweep"/>); null otherwise or when none.
    /// </summary>
    [Id(4)]
    public DateTimeOffset? WakeAt { get; set; }

    /// <summary>
    /// For swept grains: when the effects left in <see cref="Outbox"/> are retried (null: none pending). Kept in the
    /// projection's pending-effects table beside the record, not in it (<see cref="IPendingEffectsRecord"/>).
    /// </summary>
    [Id(5)]
    [JsonIgnore]
    public DateTimeOffset? RetryAt { get; set; }

    /// <summary>Read back with no pending-effects row of its version: the effects stored in it were delivered since.</summary>
    public void Restore(DateTimeOffset? retryAt)
    {
        RetryAt = retryAt;
        if (retryAt is null)
        {
            Outbox.Pending.Clear();
        }
    }
}

/// <summary>Implemented by every grain that keeps time-driven work or effects: does what is due now.</summary>
[Alias("cryptopay.wakeable")]
public interface IWakeable : IGrain
{
    /// <summary>
    /// Does what is due by the gateway clock (an expiry, a retry, a block to mine) and delivers pending effects. The
    /// grain's <see cref="EffectGrain{TState}.WakeReminder"/> calls it; tests moving a fake clock call it directly.
    /// </summary>
    Task Wake();
}

/// <summary>The effects of this call could not all be delivered; the sender keeps the effect that caused them and sends it again.</summary>
[GenerateSerializer]
[Alias("cryptopay.effects-pending")]
public sealed class EffectsPendingException(string message) : Exception(message);

/// <summary>
/// Base of grains that change other grains (ARCHITECTURE.md, guarantee 3, on Orleans). A call changes
/// <see cref="State"/>, queues effects with <see cref="Send"/> and ends with <see cref="SaveAsync"/>: one write of the
/// state together with its effects, then delivery. An effect leaves the outbox once its receiver answered; the written
/// outbox is brought up to date by the grain's next write, or for a swept grain (<see cref="WokenBySweep"/>), once all
/// are delivered, by deleting the row that says they are pending.
/// <para>
/// Who brings a pending effect to its receiver after a crash: when the call is itself the delivery of an effect
/// (<see cref="AcceptAsync"/>), the sender upstream, which keeps its effect until this call returns, so the call fails
/// unless its own effects were delivered, and the next attempt finds them in this grain's outbox and delivers them
/// first. Otherwise the grain's <see cref="WakeReminder"/>, registered before the write (for a swept grain, its
/// pending-effects row, written with it). The same reminder wakes the grain when <see cref="DueAt"/> comes (an expiry,
/// a retry); it removes itself when nothing is pending or due.
/// </para>
/// </summary>
public abstract class EffectGrain<TState> : Grain, IRemindable, IWakeable, IIncomingGrainCallFilter where TState : class, new()
{
    public const string WakeReminder = "wake";

    /// <summary>How soon an effect nobody upstream will resend is retried after a crash or a refusal, and how often after that.</summary>
    public static readonly TimeSpan RetryPeriod = EffectRedelivery.Period;

    private readonly IPersistentState<GrainRecord<TState>> record;
    private readonly ILogger logger;
    private DateTimeOffset? wakeRegisteredFor;
    private bool wakeKnown;
    private bool storedOutboxStale;
    private bool deliveringEffect;
    private TaskCompletionSource? nextWrite;
    private bool writing;
    private bool broken;
    private ProjectedGrainStorage? pendingEffects;
    private (string? ETag, Task Stored) deliveredRecorded = (null, Task.CompletedTask);

    protected EffectGrain(IPersistentState<GrainRecord<TState>> record, TimeProvider clock, ILogger logger)
    {
        this.record = record;
        Clock = clock;
        this.logger = logger;
    }

    protected TimeProvider Clock { get; }

    protected DateTimeOffset Now => Clock.GetUtcNow();

    protected TState State
    {
        get => record.State.State;
        set => record.State.State = value;
    }

    /// <summary>True once the grain's record has been written.</summary>
    protected bool Stored => record.RecordExists;

    /// <summary>This grain as the sender of effects: <c>{type}/{key}</c>.</summary>
    protected string Address => this.GetGrainId().ToString();

    /// <summary>How often the wake reminder repeats after its first tick (at least Orleans' minimum reminder period).</summary>
    protected virtual TimeSpan WakePeriod => RetryPeriod;

    /// <summary>When the grain next has time-driven work (null: none); the wake reminder is kept due by then.</summary>
    protected virtual DateTimeOffset? DueAt => null;

    /// <summary>The time-driven work: called by <see cref="Wake"/>; saves what it changes.</summary>
    protected virtual Task OnWakeAsync() => Task.CompletedTask;

    /// <summary>
    /// True for a grain type that registers no wake reminder: every write stores its next due time in the record
    /// (<see cref="GrainRecord{TState}.WakeAt"/>, projected to a column) and, while it holds effects, their retry time in
    /// its projection's pending-effects table (<see cref="IPendingEffectsRecord"/>), in the same statement as the change
    /// that needs them; a sweep of both calls <see cref="Wake"/> once they have passed. A reminder row per grain would
    /// cost a round trip and a transaction of its own before every write that needs one (an invoice's creation). Once
    /// the effects are delivered their row is deleted, and the record is not written again for it.
    /// </summary>
    protected virtual bool WokenBySweep => false;

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        if (broken)
        {
            // A save failed: what this activation holds may not be stored, so it answers nothing from it.
            throw new InconsistentStateException($"{Address} is reloading its state after a failed save; try again.");
        }

        deliveringEffect = false;
        await context.Invoke();
    }

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var pending = record.State.Outbox.Pending;
        for (var i = 0; i < pending.Count; i++)
        {
            pending[i] = Restored(pending[i]);
        }

        if (!record.State.Outbox.IsEmpty)
        {
            // Delivered in a turn of its own after the activation, so an activation caused by a receiver's call can't wait on that receiver.
            this.RegisterGrainTimer(DeliverLeftoversAsync, new GrainTimerCreationOptions(TimeSpan.Zero, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        }

        return base.OnActivateAsync(cancellationToken);
    }

    /// <summary>
    /// A pending effect as read from the stored record, made whole again: for effects whose stored form leaves out what
    /// the record holds beside them (an invoice's webhook events, <see cref="Webhooks.WebhookEventBatch.InvoiceIsRecordState"/>).
    /// </summary>
    protected virtual GrainEffect Restored(GrainEffect effect) => effect;

    /// <summary>After each write of the record, for every effect still pending: the state written beside it is history now.</summary>
    protected virtual void Written(GrainEffect effect)
    {
    }

    /// <summary>Queues an effect to be written with the next <see cref="SaveAsync"/> and delivered after it.</summary>
    protected void Send(GrainEffect effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        record.State.EffectsSent++;
        record.State.Outbox.Add(effect with { Sender = Address, Sequence = record.State.EffectsSent });
    }

    /// <summary>
    /// Starts applying an effect delivered to this grain: true when it is new (its number is recorded with this call's
    /// write); false for one applied before, after delivering what that application left pending, so the sender may
    /// forget it. For receivers with few senders (each sender's number is kept).
    /// </summary>
    protected async Task<bool> AcceptAsync(GrainEffect effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        deliveringEffect = true;
        if (record.State.Received.TryGetValue(effect.Sender, out var last) && effect.Sequence <= last)
        {
            await DeliverAsync();
            return false;
        }

        record.State.Received[effect.Sender] = effect.Sequence;
        return true;
    }

    /// <summary>Marks this call as the delivery of an effect deduplicated by the receiver itself (not by <see cref="AcceptAsync"/>).</summary>
    protected void DeliveringEffect() => deliveringEffect = true;

    /// <summary>Writes the state with its pending effects, then delivers them.</summary>
    protected async Task SaveAsync()
    {
        if (!WokenBySweep)
        {
            try
            {
                await EnsureWakeAsync(NextWake());
            }
            catch
            {
                // The change is in this activation only; a retry of the call must not find it and answer as if it were stored.
                Reload();
                throw;
            }
        }

        // Swept grains: the write itself carries the wake time (WriteAsync), so no crash can separate the two.
        await WriteAsync();
        await DeliverAsync();
    }

    /// <summary>
    /// For a call that is itself the delivery of an effect (<see cref="AcceptAsync"/>) and sends one effect whose receiver
    /// recognises a repeat by the effect's own deterministic id (a balance, by movement id): delivers
    /// <paramref name="effect"/> first, then writes the state once, its outbox never holding the effect — one write where
    /// <see cref="SaveAsync"/> needs two (the state with the effect, then the emptied outbox). If the delivery fails, or
    /// the activation dies or its write fails after it, nothing of the call is stored: the activation is replaced, the
    /// call fails, its sender sends its effect again, and the new activation makes the same change with the same
    /// effect id, which the receiver recognises.
    /// </summary>
    protected async Task DeliverThenSaveAsync(GrainEffect effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        record.State.EffectsSent++;
        var stamped = effect with { Sender = Address, Sequence = record.State.EffectsSent };
        try
        {
            await stamped.DeliverAsync(GrainFactory);
        }
        catch
        {
            Reload();
            throw;
        }

        await WriteAsync();
    }

    /// <summary>
    /// For grains whose state-changing calls interleave (<c>[AlwaysInterleave]</c>) and send no effects: completes once
    /// the state, with this call's change, is written. Calls arriving while a write is under way share the next one, so a
    /// grain that every deposit of a merchant reaches (its balance) writes once per batch, not once per call. A failed
    /// write fails every call that shared it, and the activation refuses further calls until it is reloaded.
    /// </summary>
    protected Task SaveTogetherAsync()
    {
        var waiting = nextWrite ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!writing)
        {
            _ = WriteTogetherAsync();
        }

        return waiting.Task;
    }

    /// <summary>Completes once every change made so far is written (at once when none is waiting): for a call that changed nothing but must not answer before an earlier change is stored.</summary>
    protected Task WhenWrittenAsync() => writing || nextWrite is not null ? SaveTogetherAsync() : Task.CompletedTask;

    private async Task WriteTogetherAsync()
    {
        writing = true;
        try
        {
            while (nextWrite is { } batch)
            {
                nextWrite = null;
                try
                {
                    StampWake();
                    await record.WriteStateAsync();
                    AfterWrite();
                    batch.SetResult();
                }
                catch (Exception error)
                {
                    Reload();
                    batch.SetException(error);
                    nextWrite?.SetException(error);
                    nextWrite = null;
                    return;
                }
            }
        }
        finally
        {
            writing = false;
        }
    }

    public async Task Wake()
    {
        await OnWakeAsync();
        if (!record.State.Outbox.IsEmpty)
        {
            await record.State.Outbox.DeliverAsync(e => e.DeliverAsync(GrainFactory), e => e.Receiver, logger);
            storedOutboxStale = true;
        }

        if (WokenBySweep)
        {
            await SettleSweptAsync();
            return;
        }

        if (storedOutboxStale && Stored)
        {
            await WriteAsync();
        }

        await SettleWakeAsync();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != WakeReminder)
        {
            return;
        }

        if (WokenBySweep)
        {
            // A reminder registered before this grain type was swept: one last wake, then it goes.
            await Wake();
            if (await this.GetReminder(WakeReminder) is { } legacy)
            {
                await this.UnregisterReminder(legacy);
            }

            return;
        }

        // Orleans repeats the reminder every period after its first tick.
        wakeRegisteredFor = Now + WakePeriod;
        wakeKnown = true;
        await Wake();
    }

    private async Task DeliverAsync()
    {
        if (record.State.Outbox.IsEmpty)
        {
            return;
        }

        if (await record.State.Outbox.DeliverAsync(e => e.DeliverAsync(GrainFactory), e => e.Receiver, logger) > 0)
        {
            storedOutboxStale = true;
        }

        if (record.State.Outbox.IsEmpty && WokenBySweep)
        {
            // Not awaited: the call is answered without another round trip; a deletion lost is only a retry.
            _ = RecordDeliveredAsync();
        }

        if (!record.State.Outbox.IsEmpty)
        {
            if (deliveringEffect)
            {
                throw new EffectsPendingException($"{Address} could not deliver {record.State.Outbox.Pending.Count} effect(s); the effect that caused them is to be sent again.");
            }

            await EnsureWakeAsync(Now + RetryPeriod);
        }
    }

    private async Task DeliverLeftoversAsync(CancellationToken cancellationToken)
    {
        deliveringEffect = false;
        await DeliverAsync();
        if (storedOutboxStale)
        {
            await WriteAsync();
        }
    }

    private async Task WriteAsync()
    {
        try
        {
            StampWake();
            await record.WriteStateAsync();
            AfterWrite();
        }
        catch
        {
            Reload();
            throw;
        }
    }

    private void AfterWrite()
    {
        storedOutboxStale = false;
        foreach (var effect in record.State.Outbox.Pending)
        {
            Written(effect);
        }
    }

    /// <summary>
    /// What this activation holds may differ from what is stored (a change whose save failed): it answers no further call
    /// and is replaced by one that reads the store again.
    /// </summary>
    private void Reload()
    {
        broken = true;
        DeactivateOnIdle();
    }

    /// <summary>When this grain next has work: its due time, or a retry of effects nobody upstream will send again.</summary>
    private DateTimeOffset? NextWake() =>
        Earliest(DueAt, !deliveringEffect ? RetryAt() : null);

    /// <summary>When the effects about to be written are retried if they are not delivered by then; null when there are none.</summary>
    private DateTimeOffset? RetryAt() => record.State.Outbox.IsEmpty ? null : Now + RetryPeriod;

    /// <summary>
    /// Swept grains: the due time and the retry time of the effects go with the record about to be written. The retry
    /// time is stored even for effects a sender upstream will send again: it also says that they may still be pending.
    /// </summary>
    private void StampWake()
    {
        if (WokenBySweep)
        {
            record.State.WakeAt = DueAt;
            record.State.RetryAt = RetryAt();
        }
    }

    /// <summary>
    /// Swept grains, once the effects written with the record were all delivered: their pending-effects row is deleted
    /// instead of the record written again. Asked again for the same version while the first deletion is under way, it
    /// waits for that one; once that one completed, it deletes again (it may have failed).
    /// </summary>
    private Task RecordDeliveredAsync()
    {
        storedOutboxStale = false;
        record.State.RetryAt = null;
        if (deliveredRecorded.ETag != record.Etag || deliveredRecorded.Stored.IsCompleted)
        {
            // A projection without a pending-effects table fails here, at the first delivery (BadProviderConfigException).
            pendingEffects ??= ServiceProvider.GetRequiredService<ProjectedGrainStorage>();
            deliveredRecorded = (record.Etag, pendingEffects.EffectsDeliveredAsync<GrainRecord<TState>>(this.GetGrainId(), record.Etag));
        }

        return deliveredRecorded.Stored;
    }

    /// <summary>
    /// Swept grains, after a wake: effects still pending are written back with a new retry time (and without those
    /// delivered); when none are, whatever the sweep found pending (delivered since, or a deletion that failed) is
    /// deleted. A stored wake time that has passed and is not this grain's (written before the pending-effects table held
    /// retries, or its work done without a write) would be swept again and again: it is brought up to date.
    /// </summary>
    private async Task SettleSweptAsync()
    {
        if (!Stored)
        {
            return;
        }

        if (!record.State.Outbox.IsEmpty || (record.State.WakeAt is { } stored && stored <= Now && stored != DueAt))
        {
            await WriteAsync();
            return;
        }

        await RecordDeliveredAsync();
    }

    /// <summary>Makes sure the wake reminder fires by <paramref name="due"/> (no-op when null or already so).</summary>
    private async Task EnsureWakeAsync(DateTimeOffset? due)
    {
        if (WokenBySweep)
        {
            // The stored retry time is what the sweep reads: written now if it is later than asked (effects left pending).
            if (due is { } by && Stored && (record.State.RetryAt is not { } stored || stored > by))
            {
                await WriteAsync();
            }

            return;
        }

        if (due is not { } at || (wakeKnown && wakeRegisteredFor is { } registered && registered <= at))
        {
            return;
        }

        var dueIn = at - Now;
        await this.RegisterOrUpdateReminder(WakeReminder, dueIn > TimeSpan.Zero ? dueIn : TimeSpan.Zero, WakePeriod);
        wakeRegisteredFor = at;
        wakeKnown = true;
    }

    /// <summary>After a wake: removes the reminder when nothing is pending or due, or moves it to the next due time.</summary>
    private async Task SettleWakeAsync()
    {
        if (!record.State.Outbox.IsEmpty)
        {
            return;
        }

        if (DueAt is { } due)
        {
            if (due > Now + WakePeriod)
            {
                wakeKnown = false;
                await EnsureWakeAsync(due);
            }

            return;
        }

        if (await this.GetReminder(WakeReminder) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }

        wakeRegisteredFor = null;
        wakeKnown = true;
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a < b ? a : b;
}
