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

/// <summary>
/// The outcome of using a link: granted (and counted) with the id of the invoice to open, or refused with the reason.
/// <see cref="Repeated"/>: the attempt was granted before, and this is its first grant's invoice.
/// </summary>
[GenerateSerializer]
[Immutable]
[Alias("cryptopay.payment-link-use")]
public sealed record PaymentLinkUse(
    [property: Id(0)] PaymentLink? Link,
    [property: Id(1)] PaymentLinkRefusal? Refusal,
    [property: Id(2)] Guid? InvoiceId = null,
    [property: Id(3)] bool Repeated = false)
{
    public bool Granted => Refusal is null;
}

/// <summary>
/// A payment link. Its use count lives in this grain's turn, so concurrent uses on any silo are granted one at a time and
/// a single-use link opens exactly one invoice. Only the link page's form uses it (a POST), never opening the page.
/// </summary>
[Alias("cryptopay.payment-link")]
public interface IPaymentLinkGrain : IGrainWithGuidKey
{
    /// <summary>Creates the link; a repeated call returns the link as it is.</summary>
    Task<PaymentLink> Create(PaymentLinkSpec spec);

    Task<PaymentLink?> Get();

    Task<PaymentLink?> Deactivate();

    /// <summary>
    /// Counts one use for <paramref name="attempt"/> (the token of one rendering of the link's page) when the link is active,
    /// unexpired and not used up, and names the invoice it opens. An attempt granted before gets that grant again, counted
    /// once, whatever the link's state now: a double click or a retried form reaches the invoice of its first sending.
    /// </summary>
    Task<PaymentLinkUse> Use(string attempt);

    /// <summary>Gives back the use granted to <paramref name="attempt"/>, whose invoice could not be created; once.</summary>
    Task ReleaseUse(string attempt);
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
    /// <summary>
    /// Granted attempts remembered, newest kept: a resent form comes seconds after the first, and a single-use link has one
    /// grant, kept for good.
    /// </summary>
    public const int MaxAttemptsKept = 100;

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

    public async Task<PaymentLinkUse> Use(string attempt)
    {
        ArgumentException.ThrowIfNullOrEmpty(attempt);
        if (Link is not { } link)
        {
            return new PaymentLinkUse(null, PaymentLinkRefusal.Unknown);
        }

        if (state.State.Attempts.Find(a => a.Token == attempt) is { } granted)
        {
            return new PaymentLinkUse(link, null, granted.InvoiceId, Repeated: true);
        }

        if (link.RefusalAt(clock.GetUtcNow()) is { } refusal)
        {
            return new PaymentLinkUse(link, refusal);
        }

        var use = new PaymentLinkAttempt(attempt, Guid.NewGuid());
        var attempts = state.State.Attempts;
        attempts.Add(use);
        if (attempts.Count > MaxAttemptsKept)
        {
            attempts.RemoveAt(0);
        }

        // The grant and its count in one write; a failed write reads the stored state back, without either.
        await SaveAsync(link with { Uses = link.Uses + 1 });
        return new PaymentLinkUse(Link, null, use.InvoiceId);
    }

    public async Task ReleaseUse(string attempt)
    {
        if (Link is { Uses: > 0 } link && state.State.Attempts.RemoveAll(a => a.Token == attempt) > 0)
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
