using System.Security.Cryptography;
using System.Text;
using CryptoPay.Grains.Invoices;

namespace CryptoPay.Grains.Webhooks;

/// <summary>
/// How an endpoint's webhooks look: ours (Standard Webhooks), or a compatibility profile's (API.md, Compatibility
/// profiles). A format says which of our invoice events it sends and under what name, renders the body (the same bytes
/// on every attempt), signs an attempt, and has its own retry schedule. The endpoints grain and the sender only ask it.
/// </summary>
public abstract class WebhookFormat
{
    /// <summary>The format's name, stored with an endpoint and with each delivery.</summary>
    public abstract string Name { get; }

    /// <summary>Delays before each attempt, the first being the first attempt's.</summary>
    public abstract IReadOnlyList<TimeSpan> Schedule { get; }

    /// <summary>The format's name for one of our event types; null when the format has no such event (it is not sent).</summary>
    /// <remarks>Only the standard format names withdrawal and settlement events: their bodies exist in our format only.</remarks>
    public abstract string? EventName(string type);

    /// <summary>Whether the body carries a signature made with the endpoint's secret (so it is rendered per endpoint).</summary>
    public virtual bool SignsInBody => false;

    /// <summary>The body of an invoice event; <paramref name="secret"/> is the endpoint's current secret, for formats that sign inside the body.</summary>
    public abstract string InvoiceBody(string eventId, string eventName, long created, InvoiceState invoice, string secret);

    /// <summary>The headers that sign one attempt, with every live secret of the endpoint (current first).</summary>
    public abstract IEnumerable<KeyValuePair<string, string>> SignatureHeaders(string eventId, long timestamp, string body, IReadOnlyList<string> secrets);

    /// <summary>
    /// Hex HMAC-SHA256 keyed with the secret's text exactly as the merchant is shown it: what the documents' samples
    /// compute (<c>hash_hmac('sha256', $data, $secret)</c>).
    /// </summary>
    public static string HexHmac(string secret, string data) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(data)));
}

/// <summary>Our own format: <c>{id, type, created, mode, data: {object}}</c> signed per Standard Webhooks.</summary>
public sealed class StandardWebhookFormat(IWebhookPayloadRenderer renderer) : WebhookFormat
{
    public const string FormatName = "standard";

    public override string Name => FormatName;

    public override IReadOnlyList<TimeSpan> Schedule => WebhookDeliveryGrain.Schedule;

    public override string? EventName(string type) => type;

    public override string InvoiceBody(string eventId, string eventName, long created, InvoiceState invoice, string secret) =>
        WebhookEndpointsGrain.Body(eventId, eventName, created, invoice.Spec.Mode, renderer.Render(invoice));

    public override IEnumerable<KeyValuePair<string, string>> SignatureHeaders(string eventId, long timestamp, string body, IReadOnlyList<string> secrets) =>
        Headers(eventId, timestamp, body, secrets);

    /// <summary>The Standard Webhooks headers: <c>webhook-id</c>, <c>webhook-timestamp</c>, and one signature per live secret.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Headers(string eventId, long timestamp, string body, IReadOnlyList<string> secrets) =>
    [
        new("webhook-id", eventId),
        new("webhook-timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("webhook-signature", WebhookSignature.Header(secrets, eventId, timestamp, body)),
    ];
}

/// <summary>The formats this silo knows, by name; the standard one always, the profiles' when the API registered them.</summary>
public sealed class WebhookFormats
{
    private readonly Dictionary<string, WebhookFormat> byName;

    public WebhookFormats(IEnumerable<WebhookFormat> formats, IWebhookPayloadRenderer? renderer = null)
    {
        byName = formats.ToDictionary(f => f.Name, StringComparer.Ordinal);
        byName.TryAdd(StandardWebhookFormat.FormatName, new StandardWebhookFormat(renderer ?? new StateJsonRenderer()));
    }

    public IReadOnlyCollection<string> Names => byName.Keys;

    /// <summary>The named format; null or unknown (a delivery stored before formats existed) is the standard one.</summary>
    public WebhookFormat Get(string? name) =>
        name is not null && byName.TryGetValue(name, out var format) ? format : byName[StandardWebhookFormat.FormatName];

    public bool Knows(string name) => byName.ContainsKey(name);
}
