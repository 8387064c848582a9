using CryptoPay.Grains.Merchants;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.PaymentLinks;

/// <summary>What a merchant asks for when creating a link: every invoice the link opens is priced so.</summary>
public sealed record PaymentLinkSpec(Guid MerchantId, Mode Mode, decimal Amount, string Currency, string? Description, bool Reusable, int? MaxUses, DateTimeOffset? ExpiresAt);

public sealed record PaymentLinkState
{
    public Guid Id { get; set; }

    public PaymentLinkSpec Spec { get; set; } = new(Guid.Empty, Mode.Test, 0m, "", null, false, null, null);

    public bool Active { get; set; } = true;

    public int Uses { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? DeactivatedAt { get; set; }

    public bool Exists => Id != Guid.Empty;

    /// <summary>A single-use link allows one use; a reusable one its max_uses, or any number without it.</summary>
    public int? UseLimit => Spec.Reusable ? Spec.MaxUses : 1;
}

public enum PaymentLinkRefusal
{
    Unknown,
    Deactivated,
    Expired,
    UsedUp,
}

/// <summary>The outcome of opening a link: the use is granted (and counted), or refused with the reason.</summary>
public sealed record PaymentLinkUse(PaymentLinkState? Link, PaymentLinkRefusal? Refusal)
{
    public bool Granted => Refusal is null;
}

/// <summary>
/// A payment link. Its use count lives in this grain's turn, so concurrent openings on any silo are
/// granted one at a time and a single-use link opens exactly one invoice.
/// </summary>
[GrainType("payment-link")]
public interface IPaymentLinkGrain : IGrainWithGuidKey
{
    /// <summary>Creates the link; a repeated call returns the link as it is.</summary>
    Task<PaymentLinkState> Create(PaymentLinkSpec spec);

    Task<PaymentLinkState?> Get();

    Task<PaymentLinkState?> Deactivate();

    /// <summary>Counts one use when the link is active, unexpired and not used up.</summary>
    Task<PaymentLinkUse> Use();

    /// <summary>Gives back a granted use whose invoice could not be created.</summary>
    Task ReleaseUse();
}

public sealed class PaymentLinkGrain : Grain<PaymentLinkState>, IPaymentLinkGrain
{
    public async Task<PaymentLinkState> Create(PaymentLinkSpec spec)
    {
        if (State.Exists)
        {
            return State;
        }

        State = new PaymentLinkState { Id = GetPrimaryKey(), Spec = spec, CreatedAt = Now };
        await Send<IPaymentLinkIndexGrain>(PaymentLinkIndexGrain.KeyOf(spec.MerchantId, spec.Mode)).Add(State.Id);
        return State;
    }

    public Task<PaymentLinkState?> Get() => Task.FromResult(State.Exists ? State : null);

    public Task<PaymentLinkState?> Deactivate()
    {
        if (State.Exists && State.Active)
        {
            State.Active = false;
            State.DeactivatedAt = Now;
        }

        return Task.FromResult(State.Exists ? State : null);
    }

    public Task<PaymentLinkUse> Use()
    {
        PaymentLinkRefusal? refusal = !State.Exists ? PaymentLinkRefusal.Unknown
            : !State.Active ? PaymentLinkRefusal.Deactivated
            : State.Spec.ExpiresAt is { } expiresAt && Now >= expiresAt ? PaymentLinkRefusal.Expired
            : State.UseLimit is { } limit && State.Uses >= limit ? PaymentLinkRefusal.UsedUp
            : null;
        if (refusal is null)
        {
            State.Uses++;
        }

        return Task.FromResult(new PaymentLinkUse(State.Exists ? State : null, refusal));
    }

    public Task ReleaseUse()
    {
        if (State.Uses > 0)
        {
            State.Uses--;
        }

        return Task.CompletedTask;
    }
}

public sealed record PaymentLinkIndexState
{
    public List<Guid> Links { get; set; } = [];
}

/// <summary>The links of one merchant in one mode, newest last, for listing.</summary>
[GrainType("payment-link-index")]
public interface IPaymentLinkIndexGrain : IGrainWithStringKey
{
    Task Add(Guid linkId);

    Task<IReadOnlyList<Guid>> List();
}

public sealed class PaymentLinkIndexGrain : Grain<PaymentLinkIndexState>, IPaymentLinkIndexGrain
{
    public static string KeyOf(Guid merchantId, Mode mode) => $"{merchantId:N}/{(mode == Mode.Live ? "live" : "test")}";

    public Task Add(Guid linkId)
    {
        if (!State.Links.Contains(linkId))
        {
            State.Links.Add(linkId);
        }

        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<Guid>> List() => Task.FromResult<IReadOnlyList<Guid>>([.. State.Links]);
}
