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
    public async Task A_single_use_link_grants_one_attempt_again_and_again_and_no_other_until_its_use_is_released()
    {
        var spec = new PaymentLinkSpec(Guid.NewGuid(), Mode.Test, 10m, "USD", null, Reusable: false, MaxUses: 1, ExpiresAt: null);
        var link = cluster.Grains.GetGrain<IPaymentLinkGrain>(Guid.NewGuid());
        await link.Create(spec);

        var first = await link.Use("attempt-a");
        Assert.True(first is { Granted: true, Repeated: false, InvoiceId: not null, Link.Uses: 1 }, first.ToString());
        await cluster.Grains.GetGrain<IManagementGrain>(0).DeactivateGrain(link.GetGrainId());
        Assert.Equal(first with { Repeated = true }, await link.Use("attempt-a"));
        Assert.Equal(PaymentLinkRefusal.UsedUp, (await link.Use("attempt-b")).Refusal);

        await link.ReleaseUse("attempt-a");
        await link.ReleaseUse("attempt-a");
        Assert.Equal(0, (await link.Get())!.Uses);
        var second = await link.Use("attempt-b");
        Assert.True(second is { Granted: true, Repeated: false, Link.Uses: 1 }, second.ToString());
        Assert.NotEqual(first.InvoiceId, second.InvoiceId);

        await link.Deactivate();
        Assert.Equal(PaymentLinkRefusal.Deactivated, (await link.Use("attempt-c")).Refusal);
        // Granted before the link was deactivated: the same invoice still.
        Assert.Equal(second.InvoiceId, (await link.Use("attempt-b")).InvoiceId);
        Assert.Equal(PaymentLinkRefusal.Unknown, (await cluster.Grains.GetGrain<IPaymentLinkGrain>(Guid.NewGuid()).Use("attempt-a")).Refusal);
    }

    [Fact]
    public async Task A_reusable_link_counts_each_attempt_once_and_remembers_the_latest()
    {
        var spec = new PaymentLinkSpec(Guid.NewGuid(), Mode.Live, 10m, "USD", null, Reusable: true, MaxUses: null, ExpiresAt: null);
        var link = cluster.Grains.GetGrain<IPaymentLinkGrain>(Guid.NewGuid());
        await link.Create(spec);

        var uses = new List<PaymentLinkUse>();
        for (var i = 0; i <= PaymentLinkGrain.MaxAttemptsKept; i++)
        {
            uses.Add(await link.Use($"attempt-{i}"));
        }

        Assert.Equal(uses.Count, uses.Select(u => u.InvoiceId).Distinct().Count());
        var latest = uses[^1];
        Assert.Equal(latest.InvoiceId, (await link.Use($"attempt-{PaymentLinkGrain.MaxAttemptsKept}")).InvoiceId);
        Assert.Equal(uses.Count, (await link.Get())!.Uses);
        // The oldest attempt is forgotten: sent again, it is a new use of the reusable link.
        var oldest = await link.Use("attempt-0");
        Assert.True(oldest is { Repeated: false }, oldest.ToString());
        Assert.NotEqual(uses[0].InvoiceId, oldest.InvoiceId);
    }
}
