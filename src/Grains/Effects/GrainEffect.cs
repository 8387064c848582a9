using System.Text.Json.Serialization;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Webhooks;
using Orleans;

namespace CryptoPay.Grains.Effects;

/// <summary>
/// An effect a grain has on another grain, kept in the sender's <see cref="GrainRecord{TState}"/> until the receiver has
/// answered (ARCHITECTURE.md, guarantee 3). <see cref="Sender"/> and <see cref="Sequence"/> are set by
/// <see cref="EffectGrain{TState}.Send"/>: a sender numbers its effects 1, 2, 3… and delivers them in that order to
/// each receiver, so a receiver with few senders recognises a redelivered effect by the highest number it applied from
/// that sender (<see cref="GrainRecord{TState}.Received"/>); others keep a window of recent <see cref="Id"/>s.
/// </summary>
[GenerateSerializer]
[Alias("cryptopay.grain-effect")]
[JsonPolymorphic(TypeDiscriminatorPropertyName = "effect")]
[JsonDerivedType(typeof(PublishInvoiceEvents), "publish-invoice-events")]
[JsonDerivedType(typeof(CreditOutput), "credit-output")]
[JsonDerivedType(typeof(ReverseOutput), "reverse-output")]
[JsonDerivedType(typeof(ShowPending), "show-pending")]
[JsonDerivedType(typeof(PostMovement), "post-movement")]
[JsonDerivedType(typeof(ObservePayment), "observe-payment")]
[JsonDerivedType(typeof(SetConfirmations), "set-confirmations")]
[JsonDerivedType(typeof(RemovePaymentEffect), "remove-payment")]
[JsonDerivedType(typeof(OpenInvoice), "open-invoice")]
[JsonDerivedType(typeof(DisableEndpoint), "disable-endpoint")]
[JsonDerivedType(typeof(ReleaseReservation), "release-reservation")]
[JsonDerivedType(typeof(PayOutReservation), "pay-out-reservation")]
[JsonDerivedType(typeof(PublishWithdrawalEvents), "publish-withdrawal-events")]
[JsonDerivedType(typeof(PublishSettlementEvent), "publish-settlement-event")]
public abstract record GrainEffect : IGrainEffect
{
    /// <summary>The sending grain, as <c>{type}/{key}</c>.</summary>
    [Id(0)]
    public string Sender { get; init; } = "";

    [Id(1)]
    public long Sequence { get; init; }

    public string Id => $"{Sender}#{Sequence}";

    /// <summary>The receiving grain, as <c>{type}/{key}</c>: effects to one receiver are delivered one after another, in order.</summary>
    public abstract string Receiver { get; }

    /// <summary>Calls the receiver; completes when the receiver has applied (or recognised) the effect.</summary>
    public abstract Task DeliverAsync(IGrainFactory grains);
}
