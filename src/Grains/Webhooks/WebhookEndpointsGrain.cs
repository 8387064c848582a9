using System.Text;
using System.Text.Json;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.Webhooks;

public sealed record WebhookSecret(string Secret, DateTimeOffset? ExpiresAt);

public sealed record WebhookEndpoint
{
    public string Id { get; set; } = "";

    public string Url { get; set; } = "";

    /// <summary>The event types sent to this endpoint; empty means every type.</summary>
    public List<string> Events { get; set; } = [];

    public string? Description { get; set; }

    public bool Enabled { get; set; } = true;

    public string? DisabledReason { get; set; }

    /// <summary>The current secret first; a rotated-out one stays until it expires, so both sign meanwhile.</summary>
    public List<WebhookSecret> Secrets { get; set; } = [];

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public bool Wants(string type) => Enabled && (Events.Count == 0 || Events.Contains(type));
}

public sealed record WebhookEndpointDraft(string Id, string Url, IReadOnlyList<string> Events, string? Description, string Secret);

public sealed record WebhookEndpointPatch(string? Url, IReadOnlyList<string>? Events, string? Description, bool? Enabled);

/// <summary>An event as the invoice turn emits it; its id comes from the message that carries it.</summary>
public sealed record WebhookEventDraft(string Type, long Created, InvoiceState Invoice);

/// <summary>The events of one invoice turn, in order, with the invoice as that turn left it.</summary>
public sealed record WebhookEventBatch(IReadOnlyList<string> Types, long Created, InvoiceState Invoice);

/// <summary>Where and how the sender posts one attempt: the live signing secrets at that moment.</summary>
public sealed record WebhookTarget(string? Url, bool Enabled, IReadOnlyList<string> Secrets);

public sealed record WebhookEndpointsState
{
    public List<WebhookEndpoint> Endpoints { get; set; } = [];

    /// <summary>Signs deliveries to invoices' callback_url; created on first need.</summary>
    public string? DefaultSecret { get; set; }
}

/// <summary>
/// The webhook endpoints of one merchant in one mode, in one grain. A merchant has a handful of
/// endpoints (at most <see cref="WebhookEndpointsGrain.MaxEndpoints"/>), and an event must fan out to
/// a consistent set of them in one turn, so a per-merchant grain is both the store and the list
/// index: listing endpoints is one grain call, no projection table needed. Deliveries, which grow
/// without bound, are listed from the <c>webhook_deliveries</c> projection instead.
/// </summary>
[GrainType("webhook-endpoints")]
public interface IWebhookEndpointsGrain : IGrainWithStringKey
{
    Task<WebhookEndpoint?> Create(WebhookEndpointDraft draft);

    Task<IReadOnlyList<WebhookEndpoint>> List();

    Task<WebhookEndpoint?> Update(string endpointId, WebhookEndpointPatch patch);

    Task<bool> Delete(string endpointId);

    Task<WebhookEndpoint?> RotateSecret(string endpointId, string secret);

    /// <summary>Sent by a delivery whose endpoint answered 410 Gone.</summary>
    Task Disable(string endpointId, string reason);

    /// <summary>
    /// Sent by the turn that changed an invoice, with all of that turn's events in order: fans each out to every
    /// subscribed endpoint and the callback URL. The first event's id is the message's
    /// (<see cref="WebhookEndpointsGrain.EventIdFor(Guid)"/>), each next one derived from it and its position.
    /// </summary>
    Task PublishAll(WebhookEventBatch batch);

    /// <summary>A test event with a caller-chosen id, to the merchant's endpoints only; returns the deliveries started.</summary>
    Task<int> PublishTest(string eventId, WebhookEventDraft draft);

    Task<WebhookTarget?> GetTarget(string endpointId);
}

public sealed class WebhookEndpointsGrain(WebhookSender sender, WebhookOptions options, IWebhookPayloadRenderer? renderer = null)
    : Grain<WebhookEndpointsState>, IWebhookEndpointsGrain
{
    public const int MaxEndpoints = 16;
    public const string CallbackEndpointId = "callback";
    private static readonly TimeSpan RotationOverlap = TimeSpan.FromHours(24);
    private readonly IWebhookPayloadRenderer render = renderer ?? new StateJsonRenderer();

    public static string KeyFor(Guid merchantId, Mode mode) => $"{merchantId:N}.{InvoiceProjection.Name(mode)}";

    /// <summary>Event ids derive from the id of the message that carried the event: stable across redeliveries.</summary>
    public static string EventIdFor(Guid messageId) => $"evt_{messageId:N}";

    /// <summary>The id of the event at <paramref name="position"/> of a batch sent as message <paramref name="messageId"/>: stable across redeliveries.</summary>
    public static string EventIdFor(Guid messageId, int position)
    {
        if (position == 0)
        {
            return EventIdFor(messageId);
        }

        Span<byte> seed = stackalloc byte[20];
        messageId.TryWriteBytes(seed);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(seed[16..], position);
        return $"evt_{new Guid(System.Security.Cryptography.SHA256.HashData(seed)[..16]):N}";
    }

    public Task<WebhookEndpoint?> Create(WebhookEndpointDraft draft)
    {
        if (State.Endpoints.Find(e => e.Id == draft.Id) is { } existing)
        {
            return Task.FromResult<WebhookEndpoint?>(existing);
        }

        if (State.Endpoints.Count >= MaxEndpoints)
        {
            return Task.FromResult<WebhookEndpoint?>(null);
        }

        var endpoint = new WebhookEndpoint
        {
            Id = draft.Id,
            Url = draft.Url,
            Events = [.. draft.Events.Distinct()],
            Description = draft.Description,
            Secrets = [new WebhookSecret(draft.Secret, null)],
            CreatedAt = Now,
            UpdatedAt = Now,
        };
        State.Endpoints.Add(endpoint);
        return Task.FromResult<WebhookEndpoint?>(endpoint);
    }

    public Task<IReadOnlyList<WebhookEndpoint>> List() => Task.FromResult<IReadOnlyList<WebhookEndpoint>>(State.Endpoints);

    public Task<WebhookEndpoint?> Update(string endpointId, WebhookEndpointPatch patch)
    {
        var endpoint = State.Endpoints.Find(e => e.Id == endpointId);
        if (endpoint is not null)
        {
            endpoint.Url = patch.Url ?? endpoint.Url;
            endpoint.Events = patch.Events is { } events ? [.. events.Distinct()] : endpoint.Events;
            endpoint.Description = patch.Description ?? endpoint.Description;
            if (patch.Enabled is { } enabled)
            {
                endpoint.Enabled = enabled;
                endpoint.DisabledReason = enabled ? null : "disabled by the merchant";
            }

            endpoint.UpdatedAt = Now;
        }

        return Task.FromResult(endpoint);
    }

    public Task<bool> Delete(string endpointId) => Task.FromResult(State.Endpoints.RemoveAll(e => e.Id == endpointId) > 0);

    public Task<WebhookEndpoint?> RotateSecret(string endpointId, string secret)
    {
        var endpoint = State.Endpoints.Find(e => e.Id == endpointId);
        if (endpoint is not null)
        {
            var now = Now;
            var previous = endpoint.Secrets[0] with { ExpiresAt = now + RotationOverlap };
            endpoint.Secrets = [new WebhookSecret(secret, null), previous];
            endpoint.UpdatedAt = now;
        }

        return Task.FromResult(endpoint);
    }

    public Task Disable(string endpointId, string reason)
    {
        if (State.Endpoints.Find(e => e.Id == endpointId) is { Enabled: true } endpoint)
        {
            endpoint.Enabled = false;
            endpoint.DisabledReason = reason;
            endpoint.UpdatedAt = Now;
        }

        return Task.CompletedTask;
    }

    public async Task PublishAll(WebhookEventBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var messageId = CurrentMessageId ?? throw new GrainUsageException("PublishAll is sent as a message by the turn that changed the invoice.");
        for (var position = 0; position < batch.Types.Count; position++)
        {
            await FanOutAsync(EventIdFor(messageId, position), new WebhookEventDraft(batch.Types[position], batch.Created, batch.Invoice), batch.Invoice.Spec.CallbackUrl);
        }
    }

    public async Task<int> PublishTest(string eventId, WebhookEventDraft draft) => await FanOutAsync(eventId, draft, callbackUrl: null);

    public Task<WebhookTarget?> GetTarget(string endpointId)
    {
        if (endpointId == CallbackEndpointId)
        {
            return Task.FromResult<WebhookTarget?>(State.DefaultSecret is { } secret ? new WebhookTarget(null, true, [secret]) : null);
        }

        var now = Now;
        return Task.FromResult(State.Endpoints.Find(e => e.Id == endpointId) is { } endpoint
            ? new WebhookTarget(endpoint.Url, endpoint.Enabled, [.. endpoint.Secrets.Where(s => s.ExpiresAt is null || s.ExpiresAt > now).Select(s => s.Secret)])
            : null);
    }

    private async Task<int> FanOutAsync(string eventId, WebhookEventDraft draft, string? callbackUrl)
    {
        // Rendered only when some endpoint wants the event: most events of a merchant without endpoints go nowhere.
        string? body = null;
        var invoice = draft.Invoice.Spec;
        var started = 0;
        foreach (var endpoint in State.Endpoints.Where(e => e.Wants(draft.Type)))
        {
            await StartAsync(endpoint.Id, endpoint.Url);
        }

        if (callbackUrl is not null)
        {
            State.DefaultSecret ??= WebhookSignature.GenerateSecret();
            await StartAsync(CallbackEndpointId, callbackUrl);
        }

        return started;

        // Each delivery is created by this turn, already started with its lease reminder, and its first POST is handed to
        // the sender once the turn has committed: no message, no load of a grain that cannot exist yet, no turn of its own.
        // A delivery that already exists (a repeated test event id) is left alone, as a repeated Start was.
        Task StartAsync(string endpointId, string url)
        {
            started++;
            var spec = new WebhookDeliverySpec(
                WebhookDeliveryGrain.KeyFor(eventId, endpointId), eventId, draft.Type, invoice.MerchantId, invoice.Mode,
                GetPrimaryKeyString(), endpointId, url, body ??= Body(eventId, draft), Now);
            var factory = GrainFactory;
            CreateIfAbsent<IWebhookDeliveryGrain, WebhookDeliveryState>(
                spec.Id,
                WebhookDeliveryGrain.Started(spec, Now),
                [(WebhookDeliveryGrain.AttemptReminder, options.AttemptLease)],
                () => sender.Enqueue(new WebhookWork(factory, spec, Attempt: 1)));
            return Task.CompletedTask;
        }
    }

    /// <summary>The body of an event: <c>{id, type, created, mode, data: {object}}</c>, the same bytes on every attempt.</summary>
    private string Body(string eventId, WebhookEventDraft draft)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", eventId);
            writer.WriteString("type", draft.Type);
            writer.WriteNumber("created", draft.Created);
            writer.WriteString("mode", InvoiceProjection.Name(draft.Invoice.Spec.Mode));
            writer.WriteStartObject("data");
            writer.WritePropertyName("object");
            writer.WriteRawValue(render.Render(draft.Invoice), skipInputValidation: true);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>Renders an invoice for <c>data.object</c>; the API registers its own representation, so merchants see one shape.</summary>
public interface IWebhookPayloadRenderer
{
    string Render(InvoiceState invoice);
}

/// <summary>The stored state as JSON, for silos without the merchant API (grain tests).</summary>
public sealed class StateJsonRenderer : IWebhookPayloadRenderer
{
    public string Render(InvoiceState invoice) => JsonSerializer.Serialize(invoice, InvoiceProjection.Json);
}
