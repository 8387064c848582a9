using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Merchants;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.PaymentLinks;

public enum PaymentLinkRefusal
{
    Unknown,
    Deactivated,
    Expired,
    UsedUp,
}

/// <summary>The outcome of opening a link: the use is granted (and counted), or refused with the reason.</summary>
[GenerateSerializer]
[Immutable]
[Alias("cryptopay.payment-link-use")]
public sealed record PaymentLinkUse([property: Id(0)] PaymentLink? Link, [property: Id(1)] PaymentLinkRefusal? Refusal)
{
    public bool Granted => Refusal is null;
}

/// <summary>
/// A payment link. Its use count lives in this grain's turn, so concurrent openings on any silo are
/// granted one at a time and a single-use link opens exactly one invoice.
/// </summary>
[Alias("cryptopay.payment-link")]
public interface IPaymentLinkGrain : IGrainWithGuidKey
{
    /// <summary>Creates the link; a repeated call returns the link as it is.</summary>
    Task<PaymentLink> Create(PaymentLinkSpec spec);

    Task<PaymentLink?> Get();

    Task<PaymentLink?> Deactivate();

    /// <summary>Counts one use when the link is active, unexpired and not used up.</summary>
    Task<PaymentLinkUse> Use();

    /// <summary>Gives back a granted use whose invoice could not be created.</summary>
    Task ReleaseUse();
}

/// <summary>
/// One payment link (key: its id). Creating it lists it in its merchant's <see cref="IPaymentLinkIndexGrain"/> through
/// the link's own outbox (docs/ORLEANS.md, "Effects exactly once"): the listing is saved with the link and delivered
/// until the index acknowledges it.
/// </summary>
public sealed class PaymentLinkGrain(
    [PersistentState("payment-link")] IPersistentState<PaymentLinkState> state,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<PaymentLinkGrain> logger) : Grain, IPaymentLinkGrain, IRemindable
{
    // Not persisted: whether this activation has made sure the redelivery reminder exists.
    private EffectRedelivery? redelivery;

    private EffectRedelivery Redelivery => redelivery ??= new EffectRedelivery(this);

    private PaymentLink? Link => state.State.Link;

    public override Task OnActivateAsync(CancellationToken cancellationToken) =>
        state.State.Outbox.IsEmpty ? Task.CompletedTask : DeliverAsync();

    public async Task<PaymentLink> Create(PaymentLinkSpec spec)
    {
        if (Link is { } existing)
        {
            return existing;
        }

        var link = new PaymentLink(this.GetPrimaryKey(), spec, Active: true, Uses: 0, CreatedAt: clock.GetUtcNow(), DeactivatedAt: null);
        await Redelivery.ArmAsync();
        state.State.Outbox.Add(PaymentLinkListed.Of(link));
        await SaveAsync(link);
        await DeliverAsync();
        return link;
    }

    public Task<PaymentLink?> Get() => Task.FromResult(Link);

    public async Task<PaymentLink?> Deactivate()
    {
        if (Link is { Active: true } link)
        {
            await SaveAsync(link with { Active = false, DeactivatedAt = clock.GetUtcNow() });
        }

        return Link;
    }

    public async Task<PaymentLinkUse> Use()
    {
        var link = Link;
        PaymentLinkRefusal? refusal = link is null ? PaymentLinkRefusal.Unknown
            : !link.Active ? PaymentLinkRefusal.Deactivated
            : link.Spec.ExpiresAt is { } expiresAt && clock.GetUtcNow() >= expiresAt ? PaymentLinkRefusal.Expired
            : link.UseLimit is { } limit && link.Uses >= limit ? PaymentLinkRefusal.UsedUp
            : null;
        if (refusal is null)
        {
            await SaveAsync(link! with { Uses = link.Uses + 1 });
        }

        return new PaymentLinkUse(Link, refusal);
    }

    public async Task ReleaseUse()
    {
        if (Link is { Uses: > 0 } link)
        {
            await SaveAsync(link with { Uses = link.Uses - 1 });
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => DeliverAsync();

    /// <summary>Writes the link; a failed write leaves this activation with what is stored, not with what was not saved.</summary>
    private async Task SaveAsync(PaymentLink link)
    {
        state.State.Link = link;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            await state.ReadStateAsync();
            throw;
        }
    }

    private async Task DeliverAsync()
    {
        var outbox = state.State.Outbox;
        if (await outbox.DeliverAsync(e => GrainFactory.GetGrain<IPaymentLinkIndexGrain>(e.Index).Add(e.LinkId), logger) > 0)
        {
            await state.WriteStateAsync();
        }

        if (outbox.IsEmpty)
        {
            await Redelivery.DisarmAsync();
        }
    }
}

/// <summary>The links of one merchant in one mode, oldest first, for listing.</summary>
[Alias("cryptopay.payment-link-index")]
public interface IPaymentLinkIndexGrain : IGrainWithStringKey
{
    /// <summary>Lists the link; a link listed already is not listed again (a redelivered <see cref="PaymentLinkListed"/>).</summary>
    Task Add(Guid linkId);

    Task<IReadOnlyList<Guid>> List();
}

/// <summary>The payment-link ids of a merchant in a mode (key <see cref="KeyOf"/>).</summary>
public sealed class PaymentLinkIndexGrain([PersistentState("payment-link-index")] IPersistentState<PaymentLinkIndexState> state)
    : Grain, IPaymentLinkIndexGrain
{
    /// <summary>The index key: a letter first, so Orleans never reads the key as a number or a Guid.</summary>
    public static string KeyOf(Guid merchantId, Mode mode) => $"links:{merchantId:N}/{(mode == Mode.Live ? "live" : "test")}";

    public async Task Add(Guid linkId)
    {
        if (!state.State.Links.Contains(linkId))
        {
            state.State.Links.Add(linkId);
            try
            {
                await state.WriteStateAsync();
            }
            catch
            {
                // Unsaved, so not listed: the sender delivers it again.
                state.State.Links.Remove(linkId);
                throw;
            }
        }
    }

    public Task<IReadOnlyList<Guid>> List() => Task.FromResult<IReadOnlyList<Guid>>([.. state.State.Links]);
}
