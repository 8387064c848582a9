using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Storage;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Tests.Effects;

[GenerateSerializer]
[Alias("test.transfer-effect")]
public sealed record TransferEffect([property: Id(0)] string Id, [property: Id(1)] string Receiver, [property: Id(2)] int Amount) : IGrainEffect;

[GenerateSerializer]
[Alias("test.sender-state")]
public sealed class SenderState
{
    [Id(0)]
    public EffectOutbox<TransferEffect> Outbox { get; set; } = new();

    [Id(1)]
    public int Sent { get; set; }
}

[GenerateSerializer]
[Alias("test.receiver-state")]
public sealed record ReceiverState
{
    [Id(0)]
    public int Total { get; set; }

    [Id(1)]
    public AppliedEffects Applied { get; set; } = new();
}

[Alias("test.effect-sender")]
public interface IEffectSenderGrain : IGrainWithStringKey
{
    Task Send(string receiver, string effectId, int amount);

    /// <summary>What the redelivery reminder does.</summary>
    Task Redeliver();

    Task<int> PendingCount();

    Task<bool> HasRedeliveryReminder();

    Task Deactivate();
}

[Alias("test.effect-receiver")]
public interface IEffectReceiverGrain : IGrainWithStringKey
{
    Task Apply(string effectId, int amount);

    Task<int> Total();

    /// <summary>The next <paramref name="count"/> deliveries fail: before the effect is applied, or after it was written (a lost acknowledgement).</summary>
    Task FailNext(int count, bool afterApplying);
}

public sealed class EffectSenderGrain([PersistentState("effect-sender")] IPersistentState<SenderState> state, ILogger<EffectSenderGrain> logger)
    : Grain, IEffectSenderGrain, IRemindable
{
    private EffectRedelivery? redelivery;

    private EffectRedelivery Redelivery => redelivery ??= new EffectRedelivery(this);

    public override Task OnActivateAsync(CancellationToken cancellationToken) =>
        state.State.Outbox.IsEmpty ? Task.CompletedTask : DeliverAsync();

    public async Task Send(string receiver, string effectId, int amount)
    {
        state.State.Outbox.Add(new TransferEffect(effectId, receiver, amount));
        state.State.Sent++;
        await Redelivery.ArmAsync();
        await state.WriteStateAsync();
        await DeliverAsync();
    }

    public Task Redeliver() => DeliverAsync();

    public Task<int> PendingCount() => Task.FromResult(state.State.Outbox.Pending.Count);

    public async Task<bool> HasRedeliveryReminder() => await this.GetReminder(EffectRedelivery.ReminderName) is not null;

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => DeliverAsync();

    private async Task DeliverAsync()
    {
        if (await state.State.Outbox.DeliverAsync(e => GrainFactory.GetGrain<IEffectReceiverGrain>(e.Receiver).Apply(e.Id, e.Amount), logger) > 0)
        {
            await state.WriteStateAsync();
        }

        if (state.State.Outbox.IsEmpty)
        {
            await Redelivery.DisarmAsync();
        }
    }
}

public sealed class EffectReceiverGrain([PersistentState("effect-receiver", ProjectedGrainStorage.Name)] IPersistentState<ReceiverState> state)
    : Grain, IEffectReceiverGrain
{
    public static readonly TableProjection<ReceiverState> Projection =
        new TableProjection<ReceiverState>("effect-receiver", "effect_receivers").Column("total", ColumnType.Integer, s => s.Total);

    private int failures;
    private bool failAfterApplying;

    public async Task Apply(string effectId, int amount)
    {
        if (failures > 0 && !failAfterApplying)
        {
            failures--;
            throw new InvalidOperationException("The receiver is unavailable.");
        }

        if (state.State.Applied.TryApply(effectId))
        {
            state.State.Total += amount;
            await state.WriteStateAsync();
        }

        if (failures > 0)
        {
            failures--;
            throw new InvalidOperationException("The acknowledgement was lost.");
        }
    }

    public Task<int> Total() => Task.FromResult(state.State.Total);

    public Task FailNext(int count, bool afterApplying)
    {
        failures = count;
        failAfterApplying = afterApplying;
        return Task.CompletedTask;
    }
}
