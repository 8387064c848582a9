using System.Text.Json.Serialization;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Merchants;
using Orleans;

namespace CryptoPay.Grains.PaymentLinks;

/// <summary>What a merchant asks for when creating a link: every invoice the link opens is priced so.</summary>
[GenerateSerializer]
[Immutable]
[Alias("cryptopay.payment-link-spec")]
public sealed record PaymentLinkSpec(
    [property: Id(0)] Guid MerchantId,
    [property: Id(1)] Mode Mode,
    [property: Id(2)] decimal Amount,
    [property: Id(3)] string Currency,
    [property: Id(4)] string? Description,
    [property: Id(5)] bool Reusable,
    [property: Id(6)] int? MaxUses,
    [property: Id(7)] DateTimeOffset? ExpiresAt);

/// <summary>A payment link as its grain holds it.</summary>
[GenerateSerializer]
[Immutable]
[Alias("cryptopay.payment-link-record")]
public sealed record PaymentLink(
    [property: Id(0)] Guid Id,
    [property: Id(1)] PaymentLinkSpec Spec,
    [property: Id(2)] bool Active,
    [property: Id(3)] int Uses,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset? DeactivatedAt)
{
    /// <summary>A single-use link allows one use; a reusable one its max_uses, or any number without it.</summary>
    [JsonIgnore]
    public int? UseLimit => Spec.Reusable ? Spec.MaxUses : 1;

    /// <summary>Why a new use would be refused at <paramref name="now"/>, or null when the link can be used.</summary>
    public PaymentLinkRefusal? RefusalAt(DateTimeOffset now) =>
        !Active ? PaymentLinkRefusal.Deactivated
        : Spec.ExpiresAt is { } expiresAt && now >= expiresAt ? PaymentLinkRefusal.Expired
        : UseLimit is { } limit && Uses >= limit ? PaymentLinkRefusal.UsedUp
        : null;
}

/// <summary>A granted use: the attempt token of the link page's form that asked for it, and the invoice it opens.</summary>
[GenerateSerializer]
[Immutable]
[Alias("cryptopay.payment-link-attempt")]
public sealed record PaymentLinkAttempt([property: Id(0)] string Token, [property: Id(1)] Guid InvoiceId);

/// <summary>The link's entry in its merchant's list; the link id is the effect's identity, and the index adds an id once.</summary>
[GenerateSerializer]
[Immutable]
[Alias("cryptopay.payment-link-listed")]
public sealed record PaymentLinkListed([property: Id(0)] string Id, [property: Id(1)] string Index, [property: Id(2)] Guid LinkId) : IGrainEffect
{
    public static PaymentLinkListed Of(PaymentLink link) =>
        new($"link-listed:{link.Id:N}", PaymentLinkIndexGrain.KeyOf(link.Spec.MerchantId, link.Spec.Mode), link.Id);
}

/// <summary>
/// Stored state of <see cref="PaymentLinkGrain"/>: the link (null until created), its listing not yet acknowledged, and the
/// latest granted uses by attempt token, so a form sent again reaches the invoice its first sending opened.
/// </summary>
[GenerateSerializer]
[Alias("cryptopay.payment-link-state")]
public sealed class PaymentLinkState
{
    [Id(0)]
    public PaymentLink? Link { get; set; }

    [Id(1)]
    public EffectOutbox<PaymentLinkListed> Outbox { get; set; } = new();

    /// <summary>Newest last; at most <see cref="PaymentLinkGrain.MaxAttemptsKept"/>.</summary>
    [Id(2)]
    public List<PaymentLinkAttempt> Attempts { get; set; } = [];
}

/// <summary>Stored state of <see cref="PaymentLinkIndexGrain"/>: link ids, oldest first, each once.</summary>
[GenerateSerializer]
[Alias("cryptopay.payment-link-index-state")]
public sealed class PaymentLinkIndexState
{
    [Id(0)]
    public List<Guid> Links { get; set; } = [];
}
