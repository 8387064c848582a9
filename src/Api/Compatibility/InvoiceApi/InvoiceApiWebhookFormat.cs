using System.Text.Json;
using CryptoPay.Api.Access;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CryptoPay.Api.Compatibility.InvoiceApi;

/// <summary>
/// What an invoice's <c>callback_url</c> receives when it was created through the Invoice API profile. The document
/// names the field and nothing more; the obvious reading is the invoice itself, exactly as <c>GET /invoices/{id}</c>
/// shows it, sent on each change of its status (new, pending, completed, expired, paid_partial, cancelled). It is signed
/// like all our webhooks (Standard Webhooks headers, the callback secret of <c>GET /v1/webhooks/callback-secret</c>),
/// with our retry schedule.
/// </summary>
public sealed class InvoiceApiWebhookFormat(IOptions<ApiOptions> api, PaymentUris uris, [FromKeyedServices(GatewayClock.Key)] TimeProvider time) : WebhookFormat
{
    public const string FormatName = "invoice-api";

    public override string Name => FormatName;

    public override IReadOnlyList<TimeSpan> Schedule => WebhookDeliveryGrain.Schedule;

    /// <summary>The status the event moves the invoice to, in the document's words; events that change no status are not sent.</summary>
    public override string? EventName(string type) => type switch
    {
        WebhookEventTypes.InvoiceCreated => InvoiceApiProfile.StatusName(InvoiceStatus.Pending),
        WebhookEventTypes.InvoiceConfirming => InvoiceApiProfile.StatusName(InvoiceStatus.Confirming),
        WebhookEventTypes.InvoiceConfirmed => InvoiceApiProfile.StatusName(InvoiceStatus.Confirmed),
        WebhookEventTypes.InvoiceExpired => "expired",
        WebhookEventTypes.InvoiceCancelled => InvoiceApiProfile.StatusName(InvoiceStatus.Cancelled),
        _ => null,
    };

    public override string InvoiceBody(string eventId, string eventName, long created, InvoiceState invoice, string secret) =>
        JsonSerializer.Serialize(InvoiceApiProfile.ToInvoice(invoice, time.GetUtcNow(), api.Value.PublicBaseUrl ?? "http://localhost", uris), InvoiceApiJson.Options);

    public override IEnumerable<KeyValuePair<string, string>> SignatureHeaders(string eventId, long timestamp, string body, IReadOnlyList<string> secrets) =>
        StandardWebhookFormat.Headers(eventId, timestamp, body, secrets);
}
