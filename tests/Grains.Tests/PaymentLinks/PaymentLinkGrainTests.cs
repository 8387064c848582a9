using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.PaymentLinks;
using CryptoPay.Grains.Tests.Hosting;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Tests.PaymentLinks;

/// <summary>Payment links on Orleans: the link is listed in its merchant's index through its outbox, once.</summary>
[Collection(OrleansCluster.Collection)]
public sealed class PaymentLinkGrainTests(OrleansCluster cluster)
{
    [Fact]
    public async Task A_link_created_twice_whose_listing_is_delivered_twice_is_listed_once()
    {
        var merchantId = Guid.NewGuid();
        var spec = new PaymentLinkSpec(merchantId, Mode.Test, 10m, "USD", "T-shirt", Reusable: false, MaxUses: 1, ExpiresAt: null);
        var link = cluster.Grains.GetGrain<IPaymentLinkGrain>(Guid.NewGuid());
        var index = cluster.Grains.GetGrain<IPaymentLinkIndexGrain>(PaymentLinkIndexGrain.KeyOf(merchantId, Mode.Test));

        var created = await link.Create(spec);
        var again = await link.Create(spec with { Amount = 99m });
        // The same effect delivered again, as after a lost acknowledgement or a redelivery reminder.
        var listed = PaymentLinkListed.Of(created);
        await cluster.Grains.GetGrain<IPaymentLinkIndexGrain>(listed.Index).Add(listed.LinkId);

        Assert.Equal(created, again);
        Assert.Equal([created.Id], await index.List());
        Assert.Empty(await cluster.Grains.GetGrain<IPaymentLinkIndexGrain>(PaymentLinkIndexGrain.KeyOf(merchantId, Mode.Live)).List());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_listing_not_acknowledged_is_delivered_again_on_the_next_activation_and_listed_once(bool lostAcknowledgement)
    {
        var merchantId = Guid.NewGuid();
        var spec = new PaymentLinkSpec(merchantId, Mode.Live, 10m, "USD", null, Reusable: true, MaxUses: null, ExpiresAt: null);
        var link = cluster.Grains.GetGrain<IPaymentLinkGrain>(Guid.NewGuid());
        var index = cluster.Grains.GetGrain<IPaymentLinkIndexGrain>(PaymentLinkIndexGrain.KeyOf(merchantId, Mode.Live));
        cluster.Failures.FailNext(index.GetGrainId(), 1, afterApplying: lostAcknowledgement);

        var created = await link.Create(spec);
        Assert.Equal(lostAcknowledgement ? [created.Id] : [], await index.List());

        await cluster.Grains.GetGrain<IManagementGrain>(0).DeactivateGrain(link.GetGrainId());
        // Any call activates the link again, and activation delivers what is pending.
        Assert.Equal(created, await link.Get());
        Assert.Equal([created.Id], await index.List());
    }

    [Fact]
    public async Task A_single_use_link_grants_one_use_until_the_use_is_released()
    {
        var spec = new PaymentLinkSpec(Guid.NewGuid(), Mode.Test, 10m, "USD", null, Reusable: false, MaxUses: 1, ExpiresAt: null);
        var link = cluster.Grains.GetGrain<IPaymentLinkGrain>(Guid.NewGuid());
        await link.Create(spec);

        Assert.True((await link.Use()).Granted);
        Assert.Equal(PaymentLinkRefusal.UsedUp, (await link.Use()).Refusal);
        await link.ReleaseUse();
        Assert.Equal(1, (await link.Use()).Link!.Uses);
        Assert.Equal(PaymentLinkRefusal.Deactivated, (await (await link.Deactivate() is { Active: false } ? link.Use() : throw new InvalidOperationException("still active"))).Refusal);
        Assert.Equal(PaymentLinkRefusal.Unknown, (await cluster.Grains.GetGrain<IPaymentLinkGrain>(Guid.NewGuid()).Use()).Refusal);
    }
}
