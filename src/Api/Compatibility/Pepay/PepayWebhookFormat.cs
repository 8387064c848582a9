using System.Globalization;
using System.Text.Json;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Webhooks;

namespace CryptoPay.Api.Compatibility.Pepay;

public sealed record PepayEventData(string InvoiceId, string Status, decimal AmountPaid, string? PaymentNetwork, string? TransactionHash);

public sealed record PepayEvent(string Id, string Type, long Created, PepayEventData Data);

/// <summary>
/// Pepay's webhooks: <c>invoice.paid</c> (confirmed), <c>invoice.expired</c>, <c>invoice.partial_payment</c> and
/// <c>invoice.overpaid</c>, as <c>{id, type, created, data: {invoice_id, status, amount_paid, payment_network,
/// transaction_hash}}</c>; signed with <c>x-pepay-timestamp</c> (Unix seconds) and <c>x-pepay-signature</c> = hex
/// HMAC-SHA256 of <c>"{timestamp}.{body}"</c> keyed with the endpoint's secret; three attempts with exponential backoff.
/// </summary>
public sealed class PepayWebhookFormat : WebhookFormat
{
    public const string FormatName = "pepay";

    /// <summary>"3 attempts with exponential backoff": at once, after 1 minute, after 4 more.</summary>
    private static readonly IReadOnlyList<TimeSpan> Attempts = [TimeSpan.Zero, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(4)];

    public override string Name => FormatName;

    public override IReadOnlyList<TimeSpan> Schedule => Attempts;

    public override string? EventName(string type) => type switch
    {
        WebhookEventTypes.InvoiceConfirmed => "invoice.paid",
        WebhookEventTypes.InvoiceExpired => "invoice.expired",
        WebhookEventTypes.InvoicePartialPayment => "invoice.partial_payment",
        WebhookEventTypes.InvoiceOverpaid => "invoice.overpaid",
        _ => null,
    };

    public override string InvoiceBody(string eventId, string eventName, long created, InvoiceState invoice, string secret)
    {
        var payment = PepayProfile.PaymentDetails(invoice);
        return JsonSerializer.Serialize(new PepayEvent(eventId, eventName, created, new PepayEventData(
            ProfileIds.Format(PepayProfile.IdPrefix, invoice.Id), PepayProfile.StatusName(invoice.Status), payment?.AmountPaid ?? 0m, payment?.Network, payment?.TransactionHash)), ProfileJson.Options);
    }

    public override IEnumerable<KeyValuePair<string, string>> SignatureHeaders(string eventId, long timestamp, string body, IReadOnlyList<string> secrets)
    {
        var stamp = timestamp.ToString(CultureInfo.InvariantCulture);
        return [new("x-pepay-timestamp", stamp), new("x-pepay-signature", HexHmac(secrets[0], $"{stamp}.{body}"))];
    }
}
