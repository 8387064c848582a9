using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Concurrency;
using Orleans.Runtime;

namespace CryptoPay.Grains.Webhooks;

[GenerateSerializer]
[Alias("cryptopay.webhook-secret")]
public sealed record WebhookSecret([property: Id(0)] string Secret, [property: Id(1)] DateTimeOffset? ExpiresAt);

[GenerateSerializer]
[Alias("cryptopay.webhook-endpoint")]
public sealed record WebhookEndpoint
{
    [Id(0)]
    public string Id { get; set; } = "";

    [Id(1)]
    public string Url { get; set; } = "";

    /// <summary>The event types sent to this endpoint; empty means every type.</summary>
    [Id(2)]
    public List<string> Events { get; set; } = [];

    [Id(3)]
    public string? Description { get; set; }

    [Id(4)]
    public bool Enabled { get; set; } = true;

    [Id(5)]
    public string? DisabledReason { get; set; }

    /// <summary>The current secret first; a rotated-out one stays until it expires, so both sign meanwhile.</summary>
    [Id(6)]
    public List<WebhookSecret> Secrets { get; set; } = [];

    [Id(7)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(8)]
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The shape of its deliveries (<see cref="WebhookFormat"/>): ours, or a compatibility profile's.</summary>
    [Id(9)]
    public string Format { get; set; } = StandardWebhookFormat.FormatName;

    public bool Wants(string type) => Enabled && (Events.Count == 0 || Events.Contains(type));
}

[GenerateSerializer]
[Alias("cryptopay.webhook-endpoint-draft")]
public sealed record WebhookEndpointDraft([property: Id(0)] string Id, [property: Id(1)] string Url, [property: Id(2)] IReadOnlyList<string> Events, [property: Id(3)] string? Description, [property: Id(4)] string Secret)
{
    [Id(5)]
    public string Format { get; init; } = StandardWebhookFormat.FormatName;
}

[GenerateSerializer]
[Alias("cryptopay.webhook-endpoint-patch")]
public sealed record WebhookEndpointPatch([property: Id(0)] string? Url, [property: Id(1)] IReadOnlyList<string>? Events, [property: Id(2)] string? Description, [property: Id(3)] bool? Enabled);

/// <summary>An event as the invoice turn emits it; its id comes from the message that carries it.</summary>
[GenerateSerializer]
[Alias("cryptopay.webhook-event-draft")]
public sealed record WebhookEventDraft([property: Id(0)] string Type, [property: Id(1)] long Created, [property: Id(2)] InvoiceState Invoice);

/// <summary>
/// The events of one invoice turn, in order, with the invoice as that turn left it. Immutable to Orleans: passed to the
/// webhook-endpoints grain without a copy, since its invoice is the invoice grain's own snapshot, which nothing changes
/// (the sender only keeps it in its outbox; the receiver renders bodies from it).
/// </summary>
[GenerateSerializer]
[Immutable]
[Alias("cryptopay.webhook-event-batch")]
[JsonConverter(typeof(StoredForm))]
public sealed record WebhookEventBatch([property: Id(0)] IReadOnlyList<string> Types, [property: Id(1)] long Created, [property: Id(2)] InvoiceState Invoice)
{
    /// <summary>
    /// True while <see cref="Invoice"/> equals the invoice state about to be written in the same record as this batch
    /// (from the turn that publishes it to that turn's write): the stored form then leaves the invoice out, which would
    /// otherwise double a new invoice's row, and says it is the record's own state. The invoice grain sets it back to
    /// false once written, so that a write while the batch is still pending stores it whole; reading a record with such
    /// a batch, it puts its state back in (<see cref="WithInvoice"/>). It is false whenever the batch is delivered.
    /// </summary>
    [Id(3)]
    public bool InvoiceIsRecordState { get; set; }

    /// <summary>The batch read from a record that left its invoice out, with that record's state.</summary>
    public WebhookEventBatch WithInvoice(InvoiceState invoice) => this with { Invoice = invoice, InvoiceIsRecordState = false };

    /// <summary>
    /// The JSON of a stored batch: <c>types</c>, <c>created</c>, and <c>invoice</c> or <c>invoice_is_record_state: true</c>
    /// (rows written before the flag existed hold the invoice, and read as they are).
    /// </summary>
    private sealed class StoredForm : JsonConverter<WebhookEventBatch>
    {
        private static readonly JsonEncodedText TypesName = JsonEncodedText.Encode("types");
        private static readonly JsonEncodedText CreatedName = JsonEncodedText.Encode("created");
        private static readonly JsonEncodedText InvoiceName = JsonEncodedText.Encode("invoice");
        private static readonly JsonEncodedText RecordStateName = JsonEncodedText.Encode("invoice_is_record_state");

        public override WebhookEventBatch Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("A webhook event batch is a JSON object.");
            }

            IReadOnlyList<string>? types = null;
            long? created = null;
            InvoiceState? invoice = null;
            var recordState = false;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
            {
                var property = reader;
                reader.Read();
                if (property.ValueTextEquals(TypesName.EncodedUtf8Bytes))
                {
                    types = JsonSerializer.Deserialize<List<string>>(ref reader, options);
                }
                else if (property.ValueTextEquals(CreatedName.EncodedUtf8Bytes))
                {
                    created = reader.GetInt64();
                }
                else if (property.ValueTextEquals(InvoiceName.EncodedUtf8Bytes))
                {
                    invoice = JsonSerializer.Deserialize<InvoiceState>(ref reader, options);
                }
                else if (property.ValueTextEquals(RecordStateName.EncodedUtf8Bytes))
                {
                    recordState = reader.GetBoolean();
                }
                else
                {
                    reader.Skip();
                }
            }

            if (types is null || created is not { } at || (invoice is null && !recordState))
            {
                throw new JsonException("A stored webhook event batch needs its types, its time and its invoice (or the record's state).");
            }

            // The invoice of a batch stored beside it is the record's state, which its grain puts back in when it reads the record.
            return new WebhookEventBatch(types, at, invoice!) { InvoiceIsRecordState = invoice is null };
        }

        public override void Write(Utf8JsonWriter writer, WebhookEventBatch value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            writer.WritePropertyName(TypesName);
            JsonSerializer.Serialize(writer, value.Types, options);
            writer.WriteNumber(CreatedName, value.Created);
            if (value.InvoiceIsRecordState)
            {
                writer.WriteBoolean(RecordStateName, true);
            }
            else
            {
                writer.WritePropertyName(InvoiceName);
                JsonSerializer.Serialize(writer, value.Invoice, options);
            }

            writer.WriteEndObject();
        }
    }
}

/// <summary>Where and how the sender posts one attempt: the live signing secrets at that moment.</summary>
[GenerateSerializer]
[Alias("cryptopay.webhook-target")]
public sealed record WebhookTarget([property: Id(0)] string? Url, [property: Id(1)] bool Enabled, [property: Id(2)] IReadOnlyList<string> Secrets);

/// <summary>The secret that signs deliveries to invoices' callback_url, and when the one it replaced stops signing (none: no overlap).</summary>
[GenerateSerializer]
[Immutable]
[Alias("cryptopay.callback-secret")]
public sealed record CallbackSecret([property: Id(0)] string Secret, [property: Id(1)] DateTimeOffset? PreviousExpiresAt);

[GenerateSerializer]
[Alias("cryptopay.webhook-endpoints-state")]
public sealed record WebhookEndpointsState
{
    [Id(0)]
    public List<WebhookEndpoint> Endpoints { get; set; } = [];

    /// <summary>Signs deliveries to invoices' callback_url; created on first need.</summary>
    [Id(1)]
    public string? DefaultSecret { get; set; }

    /// <summary>Callback secrets rotated out, newest first; each signs beside <see cref="DefaultSecret"/> until it expires.</summary>
    [Id(2)]
    public List<WebhookSecret> RetiredDefaultSecrets { get; set; } = [];
}

/// <summary>
/// The webhook endpoints of one merchant in one mode, in one grain. A merchant has a handful of
/// endpoints (at most <see cref="WebhookEndpointsGrain.MaxEndpoints"/>), and an event must fan out to
/// a consistent set of them in one turn, so a per-merchant grain is both the store and the list
/// index: listing endpoints is one grain call, no projection table needed. Deliveries, which grow
/// without bound, are listed from the <c>webhook_deliveries</c> projection instead.
/// </summary>
[Alias("cryptopay.webhook-endpoints")]
public interface IWebhookEndpointsGrain : IGrainWithStringKey, IWakeable
{
    Task<WebhookEndpoint?> Create(WebhookEndpointDraft draft);

    Task<IReadOnlyList<WebhookEndpoint>> List();

    Task<WebhookEndpoint?> Update(string endpointId, WebhookEndpointPatch patch);

    Task<bool> Delete(string endpointId);

    Task<WebhookEndpoint?> RotateSecret(string endpointId, string secret);

    /// <summary>The secret that signs deliveries to invoices' callback_url; created and written on the first ask, the same after.</summary>
    Task<CallbackSecret> GetCallbackSecret();

    /// <summary>
    /// Makes <paramref name="secret"/> the callback secret; the one it replaces keeps signing for the rotation overlap. Secrets
    /// rotated out earlier keep their own overlap, so a repeated rotation never cuts off a secret the merchant may still hold.
    /// </summary>
    Task<CallbackSecret> RotateCallbackSecret(string secret);

    /// <summary>The effect of a delivery whose endpoint answered 410 Gone.</summary>
    Task Disable(DisableEndpoint effect);

    /// <summary>
    /// The effect of an invoice's change, with all of that change's events in order: fans each out to every subscribed
    /// endpoint and the callback URL. Event ids derive from the effect's id and the event's position
    /// (<see cref="WebhookEndpointsGrain.EventIdFor(PublishInvoiceEvents, int)"/>), so a redelivered effect starts the
    /// same deliveries, which exist already and are left alone.
    /// </summary>
    [AlwaysInterleave]
    Task PublishAll(PublishInvoiceEvents effect);

    /// <summary>The effect of a withdrawal's change: like <see cref="PublishAll"/>, to the subscribed endpoints (no callback URL).</summary>
    [AlwaysInterleave]
    Task PublishWithdrawal(PublishWithdrawalEvents effect);

    /// <summary>The effect of a settled batch: its event for one merchant, to the subscribed endpoints.</summary>
    [AlwaysInterleave]
    Task PublishSettlement(PublishSettlementEvent effect);

    /// <summary>
    /// A test event with a caller-chosen id, to the merchant's endpoints and, when <paramref name="toCallbackUrl"/>, to the
    /// invoice's callback_url; returns the deliveries started.
    /// </summary>
    [AlwaysInterleave]
    Task<int> PublishTest(string eventId, WebhookEventDraft draft, bool toCallbackUrl = false);

    [AlwaysInterleave]
    Task<WebhookTarget?> GetTarget(string endpointId);
}

/// <remarks>
/// Publishing interleaves: a merchant's events fan out side by side, each waiting only for its own deliveries to be
/// started, while changes to the endpoints are made at once in memory and share writes
/// (<see cref="EffectGrain{TState}.SaveTogetherAsync"/>), so a write never races another.
/// </remarks>
[GrainType("webhook-endpoints")]
public sealed class WebhookEndpointsGrain(
    [PersistentState("webhook-endpoints")] IPersistentState<GrainRecord<WebhookEndpointsState>> record,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<WebhookEndpointsGrain> logger,
    IWebhookPayloadRenderer? renderer = null,
    WebhookFormats? webhookFormats = null)
    : EffectGrain<WebhookEndpointsState>(record, clock, logger), IWebhookEndpointsGrain
{
    public const int MaxEndpoints = 16;
    public const string CallbackEndpointId = "callback";
    private static readonly TimeSpan RotationOverlap = TimeSpan.FromHours(24);
    private readonly IWebhookPayloadRenderer render = renderer ?? new StateJsonRenderer();
    private readonly WebhookFormats formats = webhookFormats ?? new WebhookFormats([], renderer);

    public static string KeyFor(Guid merchantId, Mode mode) => $"{merchantId:N}.{InvoiceProjection.Name(mode)}";

    /// <summary>Event ids derive from the id of the effect that carried the event: stable across redeliveries.</summary>
    public static string EventIdFor(Guid messageId) => $"evt_{messageId:N}";

    /// <summary>The id of the event at <paramref name="position"/> of a published batch: stable across redeliveries.</summary>
    public static string EventIdFor(PublishInvoiceEvents effect, int position)
    {
        ArgumentNullException.ThrowIfNull(effect);
        return EventIdFor(new Guid(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(effect.Id))[..16]), position);
    }

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

    public async Task<WebhookEndpoint?> Create(WebhookEndpointDraft draft)
    {
        ArgumentNullException.ThrowIfNull(draft);
        if (State.Endpoints.Find(e => e.Id == draft.Id) is { } existing)
        {
            return existing;
        }

        if (State.Endpoints.Count >= MaxEndpoints)
        {
            return null;
        }

        var endpoint = new WebhookEndpoint
        {
            Id = draft.Id,
            Url = draft.Url,
            Events = [.. draft.Events.Distinct()],
            Description = draft.Description,
            Secrets = [new WebhookSecret(draft.Secret, null)],
            Format = draft.Format,
            CreatedAt = Now,
            UpdatedAt = Now,
        };
        State.Endpoints.Add(endpoint);
        await SaveTogetherAsync();
        return endpoint;
    }

    public Task<IReadOnlyList<WebhookEndpoint>> List() => Task.FromResult<IReadOnlyList<WebhookEndpoint>>(State.Endpoints);

    public async Task<WebhookEndpoint?> Update(string endpointId, WebhookEndpointPatch patch)
    {
        ArgumentNullException.ThrowIfNull(patch);
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
            await SaveTogetherAsync();
        }

        return endpoint;
    }

    public async Task<bool> Delete(string endpointId)
    {
        if (State.Endpoints.RemoveAll(e => e.Id == endpointId) == 0)
        {
            return false;
        }

        await SaveTogetherAsync();
        return true;
    }

    public async Task<WebhookEndpoint?> RotateSecret(string endpointId, string secret)
    {
        var endpoint = State.Endpoints.Find(e => e.Id == endpointId);
        if (endpoint is not null)
        {
            var now = Now;
            var previous = endpoint.Secrets[0] with { ExpiresAt = now + RotationOverlap };
            endpoint.Secrets = [new WebhookSecret(secret, null), previous];
            endpoint.UpdatedAt = now;
            await SaveTogetherAsync();
        }

        return endpoint;
    }

    public async Task<CallbackSecret> GetCallbackSecret()
    {
        await EnsureDefaultSecretAsync();
        return CurrentCallbackSecret();
    }

    public async Task<CallbackSecret> RotateCallbackSecret(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var now = Now;
        var retired = State.RetiredDefaultSecrets.Where(s => s.ExpiresAt > now).ToList();
        if (State.DefaultSecret is { } previous)
        {
            retired.Insert(0, new WebhookSecret(previous, now + RotationOverlap));
        }

        State.DefaultSecret = secret;
        State.RetiredDefaultSecrets = retired;
        await SaveTogetherAsync();
        return CurrentCallbackSecret();
    }

    public async Task Disable(DisableEndpoint effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        DeliveringEffect();
        if (State.Endpoints.Find(e => e.Id == effect.EndpointId) is { Enabled: true } endpoint)
        {
            endpoint.Enabled = false;
            endpoint.DisabledReason = effect.Reason;
            endpoint.UpdatedAt = Now;
            await SaveTogetherAsync();
        }
    }

    public async Task PublishAll(PublishInvoiceEvents effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        DeliveringEffect();
        var batch = effect.Batch;
        for (var position = 0; position < batch.Types.Count; position++)
        {
            await FanOutAsync(EventIdFor(effect, position), new WebhookEventDraft(batch.Types[position], batch.Created, batch.Invoice), batch.Invoice.Spec.CallbackUrl);
        }
    }

    public async Task<int> PublishTest(string eventId, WebhookEventDraft draft, bool toCallbackUrl = false)
    {
        ArgumentNullException.ThrowIfNull(draft);
        return await FanOutAsync(eventId, draft, toCallbackUrl ? draft.Invoice.Spec.CallbackUrl : null);
    }

    public async Task PublishWithdrawal(PublishWithdrawalEvents effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        DeliveringEffect();
        var batch = effect.Batch;
        var spec = batch.Withdrawal.Spec!;
        var eventBase = new Guid(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(effect.Id))[..16]);
        for (var position = 0; position < batch.Types.Count; position++)
        {
            var type = batch.Types[position];
            await FanOutAsync(EventIdFor(eventBase, position), type, spec.MerchantId, spec.Mode, (_, _, _) => Body(EventIdFor(eventBase, position), type, batch.Created, spec.Mode, render.RenderWithdrawal(batch.Withdrawal)), callback: null);
        }
    }

    public async Task PublishSettlement(PublishSettlementEvent effect)
    {
        ArgumentNullException.ThrowIfNull(effect);
        DeliveringEffect();
        var e = effect.Event;
        var eventId = EventIdFor(new Guid(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(effect.Id))[..16]), 0);
        await FanOutAsync(eventId, e.Type, e.MerchantId, e.Mode, (_, _, _) => Body(eventId, e.Type, e.Created, e.Mode, render.RenderSettlement(e.Settlement, e.MerchantId)), callback: null);
    }

    public Task<WebhookTarget?> GetTarget(string endpointId)
    {
        var now = Now;
        if (endpointId == CallbackEndpointId)
        {
            return Task.FromResult<WebhookTarget?>(State.DefaultSecret is { } secret
                ? new WebhookTarget(null, true, [secret, .. LiveSecrets(State.RetiredDefaultSecrets, now)])
                : null);
        }

        return Task.FromResult(State.Endpoints.Find(e => e.Id == endpointId) is { } endpoint
            ? new WebhookTarget(endpoint.Url, endpoint.Enabled, LiveSecrets(endpoint.Secrets, now))
            : null);
    }

    private Task<int> FanOutAsync(string eventId, WebhookEventDraft draft, string? callbackUrl) =>
        FanOutAsync(eventId, draft.Type, draft.Invoice.Spec.MerchantId, draft.Invoice.Spec.Mode,
            (format, name, secret) => format.InvoiceBody(eventId, name, draft.Created, draft.Invoice, secret),
            callbackUrl is null ? null : (callbackUrl, draft.Invoice.Spec.WebhookFormat));

    /// <summary>
    /// Starts one delivery of the event per endpoint that wants it (and the callback URL), each in its endpoint's
    /// <see cref="WebhookFormat"/>: under the format's name for the event, with the format's body. A format without
    /// the event sends nothing; withdrawal and settlement events exist in our format only.
    /// </summary>
    private async Task<int> FanOutAsync(
        string eventId, string type, Guid merchantId, Mode mode, Func<WebhookFormat, string, string, string> body, (string Url, string? Format)? callback)
    {
        var targets = State.Endpoints.Where(e => e.Wants(type))
            .Select(e => (e.Id, e.Url, Format: formats.Get(e.Format), Secret: e.Secrets[0].Secret)).ToList();
        if (callback is { } cb)
        {
            await EnsureDefaultSecretAsync();
            targets.Add((CallbackEndpointId, cb.Url, formats.Get(cb.Format), State.DefaultSecret!));
        }

        var sends = targets.Select(t => (Target: t, Name: t.Format.EventName(type))).Where(s => s.Name is not null).ToList();
        if (sends.Count == 0)
        {
            return 0;
        }

        // Rendered once per format (per secret for a format that signs inside its body), and only when some endpoint wants the event.
        var bodies = new Dictionary<(string Format, string? Secret), string>();
        string Render((string Id, string Url, WebhookFormat Format, string Secret) target, string name)
        {
            var key = (target.Format.Name, target.Format.SignsInBody ? target.Secret : null);
            if (!bodies.TryGetValue(key, out var rendered))
            {
                bodies[key] = rendered = body(target.Format, name, target.Secret);
            }

            return rendered;
        }

        var now = Now;
        // Each delivery starts at once with its first attempt; one that exists already (a redelivered event) is left alone.
        await Task.WhenAll(sends.Select(send => GrainFactory.GetGrain<IWebhookDeliveryGrain>(WebhookDeliveryGrain.KeyFor(eventId, send.Target.Id)).Start(
            new WebhookDeliverySpec(WebhookDeliveryGrain.KeyFor(eventId, send.Target.Id), eventId, send.Name!, merchantId, mode,
                this.GetPrimaryKeyString(), send.Target.Id, send.Target.Url, Render(send.Target, send.Name!), now)
            {
                Format = send.Target.Format.Name,
            })));
        return sends.Count;
    }

    /// <summary>Creates the callback secret when there is none; either way completes once it is written, before anything signs with it or shows it.</summary>
    private Task EnsureDefaultSecretAsync()
    {
        if (State.DefaultSecret is null)
        {
            State.DefaultSecret = WebhookSignature.GenerateSecret();
            return SaveTogetherAsync();
        }

        // Made by another call that may still be writing it.
        return WhenWrittenAsync();
    }

    private CallbackSecret CurrentCallbackSecret()
    {
        var now = Now;
        var overlapEnds = State.RetiredDefaultSecrets.Where(s => s.ExpiresAt > now).Max(s => s.ExpiresAt);
        return new CallbackSecret(State.DefaultSecret!, overlapEnds);
    }

    /// <summary>The secrets that sign now: those not rotated out, and rotated-out ones whose overlap has not ended.</summary>
    private static List<string> LiveSecrets(IEnumerable<WebhookSecret> secrets, DateTimeOffset now) =>
        [.. secrets.Where(s => s.ExpiresAt is null || s.ExpiresAt > now).Select(s => s.Secret)];

    /// <summary>The body of an event in our format: <c>{id, type, created, mode, data: {object}}</c>, the same bytes on every attempt.</summary>
    internal static string Body(string eventId, string type, long created, Mode mode, string objectJson)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", eventId);
            writer.WriteString("type", type);
            writer.WriteNumber("created", created);
            writer.WriteString("mode", InvoiceProjection.Name(mode));
            writer.WriteStartObject("data");
            writer.WritePropertyName("object");
            writer.WriteRawValue(objectJson, skipInputValidation: true);
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

    /// <summary>A withdrawal for <c>data.object</c>; by default its stored state.</summary>
    string RenderWithdrawal(Withdrawals.WithdrawalState withdrawal) => JsonSerializer.Serialize(withdrawal, StateJson.Options);

    /// <summary>A settlement batch as <paramref name="merchantId"/> sees it, for <c>data.object</c>; by default its stored state.</summary>
    string RenderSettlement(Settlements.SettlementState settlement, Guid merchantId) => JsonSerializer.Serialize(settlement, StateJson.Options);
}

/// <summary>The stored state as JSON, for silos without the merchant API (grain tests).</summary>
public sealed class StateJsonRenderer : IWebhookPayloadRenderer
{
    public string Render(InvoiceState invoice) => JsonSerializer.Serialize(invoice, StateJson.Options);
}
