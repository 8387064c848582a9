using System.Text.Json;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Webhooks;

namespace CryptoPay.Api.Compatibility.CryptoPayment;

public sealed record CryptoPaymentEvent(
    string Event, Guid InvoiceId, string? OrderId, string Status, string Network, string Coin, decimal AmountUsd, decimal AmountCrypto,
    decimal PaidAmount, string? Txid, int Confirmations, string? Address, DateTimeOffset Timestamp, string Signature);

/// <summary>
/// CryptoPayment's webhooks: <c>payment_detected</c> and <c>payment_confirmed</c>, a flat body whose <c>signature</c> is
/// hex HMAC-SHA256 of <c>"{invoice_id}.{event}"</c> keyed with the endpoint's secret (the document's PHP check, with
/// the secret as YOUR_APP_SECRET); five retries after 1 min, 5 min, 15 min, 1 h and 6 h.
/// </summary>
public sealed class CryptoPaymentWebhookFormat : WebhookFormat
{
    public const string FormatName = "cryptopayment";

    private static readonly IReadOnlyList<TimeSpan> Attempts =
        [TimeSpan.Zero, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromHours(1), TimeSpan.FromHours(6)];

    public override string Name => FormatName;

    public override IReadOnlyList<TimeSpan> Schedule => Attempts;

    public override bool SignsInBody => true;

    public override string? EventName(string type) => type switch
    {
        WebhookEventTypes.InvoicePaymentDetected => "payment_detected",
        WebhookEventTypes.InvoiceConfirmed => "payment_confirmed",
        _ => null,
    };

    public override string InvoiceBody(string eventId, string eventName, long created, InvoiceState invoice, string secret)
    {
        var shown = CryptoPaymentProfile.ToInvoice(invoice);
        return JsonSerializer.Serialize(new CryptoPaymentEvent(
            eventName, shown.Id, shown.OrderId, shown.Status, shown.Network, shown.Coin, shown.AmountUsd, shown.AmountCrypto, shown.PaidAmount,
            shown.Txid, shown.Confirmations.Received, shown.Address, DateTimeOffset.FromUnixTimeSeconds(created),
            HexHmac(secret, $"{invoice.Id}.{eventName}")), ProfileJson.Options);
    }

    /// <summary>The signature is in the body; the delivery id rides along for receivers that deduplicate.</summary>
    public override IEnumerable<KeyValuePair<string, string>> SignatureHeaders(string eventId, long timestamp, string body, IReadOnlyList<string> secrets) =>
        [new("webhook-id", eventId)];
}
