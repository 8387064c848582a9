using CryptoPay.Grains.Tests.Hosting;
using Orleans;

namespace CryptoPay.Grains.Tests.Effects;

/// <summary>Guarantee 3 on Orleans: an effect stays in its sender's state until acknowledged and is applied once, however often it is delivered.</summary>
[Collection(OrleansCluster.Collection)]
public sealed class EffectOutboxTests(OrleansCluster cluster)
{
    private static string NewKey() => "k" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task An_acknowledged_effect_leaves_the_outbox_and_its_reminder()
    {
        var (sender, receiver, receiverKey) = Pair();

        await sender.Send(receiverKey, "e1", 5);
        await sender.Send(receiverKey, "e2", 7);

        Assert.Equal(12, await receiver.Total());
        Assert.Equal(0, await sender.PendingCount());
        Assert.False(await sender.HasRedeliveryReminder());
    }

    [Fact]
    public async Task A_lost_acknowledgement_leaves_the_effect_pending_and_its_redelivery_is_applied_once()
    {
        var (sender, receiver, receiverKey) = Pair();
        await receiver.FailNext(1, afterApplying: true);

        await sender.Send(receiverKey, "e1", 5);
        Assert.Equal(1, await sender.PendingCount());
        Assert.True(await sender.HasRedeliveryReminder());
        Assert.Equal(5, await receiver.Total());

        await sender.Redeliver();

        Assert.Equal(5, await receiver.Total());
        Assert.Equal(0, await sender.PendingCount());
        Assert.False(await sender.HasRedeliveryReminder());
    }

    [Fact]
    public async Task An_effect_the_receiver_refused_is_applied_when_delivered_again()
    {
        var (sender, receiver, receiverKey) = Pair();
        await receiver.FailNext(2, afterApplying: false);

        await sender.Send(receiverKey, "e1", 5);
        await sender.Redeliver();
        Assert.Equal(0, await receiver.Total());
        Assert.Equal(1, await sender.PendingCount());

        await sender.Redeliver();
        Assert.Equal(5, await receiver.Total());
        Assert.Equal(0, await sender.PendingCount());
    }

    [Fact]
    public async Task An_unacknowledged_effect_is_delivered_again_before_the_next_one()
    {
        var (sender, receiver, receiverKey) = Pair();
        await receiver.FailNext(1, afterApplying: false);

        await sender.Send(receiverKey, "e1", 5);
        await sender.Send(receiverKey, "e2", 7);

        Assert.Equal(12, await receiver.Total());
        Assert.Equal(0, await sender.PendingCount());
    }

    [Fact]
    public async Task Pending_effects_survive_deactivation_and_are_delivered_on_the_next_activation()
    {
        var (sender, receiver, receiverKey) = Pair();
        await receiver.FailNext(1, afterApplying: false);
        await sender.Send(receiverKey, "e1", 5);
        Assert.Equal(1, await sender.PendingCount());

        await sender.Deactivate();
        // Any call activates the sender again, and activation delivers what is pending.
        Assert.Equal(0, await sender.PendingCount());
        Assert.Equal(5, await receiver.Total());
    }

    [Fact]
    public async Task The_same_effect_id_sent_twice_is_applied_once()
    {
        var (sender, receiver, receiverKey) = Pair();

        await sender.Send(receiverKey, "e1", 5);
        await sender.Send(receiverKey, "e1", 5);

        Assert.Equal(5, await receiver.Total());
    }

    private (IEffectSenderGrain Sender, IEffectReceiverGrain Receiver, string ReceiverKey) Pair()
    {
        var receiverKey = NewKey();
        return (cluster.Grains.GetGrain<IEffectSenderGrain>(NewKey()), cluster.Grains.GetGrain<IEffectReceiverGrain>(receiverKey), receiverKey);
    }
}
