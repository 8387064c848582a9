using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Webhooks;
using Orleans;

namespace CryptoPay.Grains.Effects;

// Every effect one gateway grain has on another. Each names its receiver and the call that applies it; the receiver
// recognises a redelivery by the effect's sender and number (see GrainEffect).

/// <summary>An invoice's change, as the webhook events it raises, to the merchant's endpoints (and its callback URL).</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.publish-invoice-events")]
public sealed record PublishInvoiceEvents([property: Id(0)] string EndpointsKey, [property: Id(1)] WebhookEventBatch Batch) : GrainEffect
{
    public override string Receiver => $"webhook-endpoints/{EndpointsKey}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<IWebhookEndpointsGrain>(EndpointsKey).PublishAll(this);
}

/// <summary>An invoice counts an output as paid: its journal credits the merchant (once).</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.credit-output")]
public sealed record CreditOutput([property: Id(0)] DepositCredit Credit) : GrainEffect
{
    public override string Receiver => $"ledger-output/{Credit.OutputKey}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<ILedgerOutputGrain>(Credit.OutputKey).Credit(this);
}

/// <summary>An invoice stopped counting a credited output (reorganised away): its journal reverses the credit.</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.reverse-output")]
public sealed record ReverseOutput([property: Id(0)] string OutputKey) : GrainEffect
{
    public override string Receiver => $"ledger-output/{OutputKey}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<ILedgerOutputGrain>(OutputKey).Reverse(this);
}

public enum PendingChange
{
    /// <summary>A detected, unconfirmed output is shown as pending.</summary>
    Detect,

    /// <summary>A credited output sent back to unconfirmed by a reorganisation is shown as pending again.</summary>
    Unconfirm,

    /// <summary>A pending output left the chain before it confirmed.</summary>
    Forget,
}

/// <summary>An invoice's unconfirmed output, shown in (or dropped from) the merchant's pending balance.</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.show-pending")]
public sealed record ShowPending([property: Id(0)] DepositCredit Credit, [property: Id(1)] PendingChange Change) : GrainEffect
{
    public override string Receiver => $"merchant-balance/{Credit.BalanceKey}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<IMerchantBalanceGrain>(Credit.BalanceKey).ShowPending(this);
}

/// <summary>A movement of an output's journal, posted to the merchant's balance.</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.post-movement")]
public sealed record PostMovement([property: Id(0)] string BalanceKey, [property: Id(1)] BalancePosting Posting) : GrainEffect
{
    public override string Receiver => $"merchant-balance/{BalanceKey}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<IMerchantBalanceGrain>(BalanceKey).Apply(this);
}

/// <summary>A chain's payment to one of the invoice's addresses.</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.observe-payment")]
public sealed record ObservePayment([property: Id(0)] Guid InvoiceId, [property: Id(1)] PaymentObservation Payment) : GrainEffect
{
    public override string Receiver => $"invoice/{InvoiceId:N}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<IInvoiceGrain>(InvoiceId).Observe(this);
}

/// <summary>A recorded payment's confirmations changed (0: its block was reorganised away).</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.set-confirmations")]
public sealed record SetConfirmations([property: Id(0)] Guid InvoiceId, [property: Id(1)] string Txid, [property: Id(2)] int OutputIndex, [property: Id(3)] int Confirmations) : GrainEffect
{
    public override string Receiver => $"invoice/{InvoiceId:N}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<IInvoiceGrain>(InvoiceId).Confirm(this);
}

/// <summary>A recorded payment left the chain.</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.remove-payment")]
public sealed record RemovePaymentEffect([property: Id(0)] Guid InvoiceId, [property: Id(1)] string Txid, [property: Id(2)] int OutputIndex) : GrainEffect
{
    public override string Receiver => $"invoice/{InvoiceId:N}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<IInvoiceGrain>(InvoiceId).Remove(this);
}

/// <summary>The order index reserved an order id for a new invoice: the invoice opens.</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.open-invoice")]
public sealed record OpenInvoice([property: Id(0)] Guid InvoiceId, [property: Id(1)] InvoiceSpec Spec) : GrainEffect
{
    public override string Receiver => $"invoice/{InvoiceId:N}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<IInvoiceGrain>(InvoiceId).Open(this);
}

/// <summary>A delivery's endpoint answered 410 Gone: the endpoint is disabled.</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.disable-endpoint")]
public sealed record DisableEndpoint([property: Id(0)] string EndpointsKey, [property: Id(1)] string EndpointId, [property: Id(2)] string Reason) : GrainEffect
{
    public override string Receiver => $"webhook-endpoints/{EndpointsKey}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<IWebhookEndpointsGrain>(EndpointsKey).Disable(this);
}
