using System.ComponentModel;
using System.Security.Cryptography;
using CryptoPay.Api.Access;
using CryptoPay.Api.Docs;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Invoices;
using CryptoPay.Api.Json;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Webhooks;
using Orleans;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CryptoPay.Api.Webhooks;

/// <summary>The body of <c>POST /v1/webhook-endpoints</c>, for the OpenAPI document.</summary>
public sealed record CreateWebhookEndpointRequest(
    [property: Description("Where events are POSTed: an http(s) URL that resolves to a public address when delivered.")] string Url,
    [property: Description("The event types to send (invoice.confirmed, …); default: all.")] IReadOnlyList<string>? Events = null,
    [property: Description("Your note; at most 500 characters.")] string? Description = null,
    [property: Description("standard (default: Standard Webhooks), or a compatibility profile's webhooks: cryptopayment, pepay.")] string? Format = null);

/// <summary>The body of <c>PATCH /v1/webhook-endpoints/{id}</c>: only the fields given change.</summary>
public sealed record UpdateWebhookEndpointRequest(string? Url = null, IReadOnlyList<string>? Events = null, string? Description = null, bool? Enabled = null);

/// <summary>The body of <c>POST /v1/webhooks/test</c>.</summary>
public sealed record SendTestWebhookRequest(
    [property: Description("One of the key's invoices; the event carries it as that status would show it.")] string InvoiceId,
    [property: Description("An invoice status or event name: pending, confirming, confirmed, paid_partial, expired, cancelled, payment_detected, overpaid, paid_late.")] string Status);

/// <summary>Webhook endpoints, the delivery log, redelivery and test events; all under the webhooks:write scope.</summary>
public static class WebhookEndpointsApi
{
    private const int MaxDescription = 500;
    private const int MaxListed = 100;

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/webhook-endpoints").WithTags("Webhooks");
        group.MapPost("", CreateAsync).ForMerchant(ApiKeyScopes.WebhooksWrite, idempotent: true).Accepts<CreateWebhookEndpointRequest>("application/json", "*/*")
            .WithSummary("Create a webhook endpoint")
            .WithDescription("Events are signed with the endpoint's secret (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature). " +
                "The answer is the only one that shows the secret (whsec_…). With `format` set to a compatibility profile's, deliveries take that " +
                "document's event names, body, signature and retry schedule (docs/COMPATIBILITY.md).")
            .RequestExample("""{"url": "https://shop.example/webhooks/cryptopay", "events": ["invoice.confirmed", "invoice.expired"], "description": "Order updates"}""")
            .Problem(StatusCodes.Status400BadRequest, $"VALIDATION_FAILED: also when the merchant has {WebhookEndpointsGrain.MaxEndpoints} endpoints in this mode already.");
        group.MapGet("", ListAsync).ForMerchant(ApiKeyScopes.WebhooksWrite)
            .WithSummary("List webhook endpoints")
            .WithDescription("The key's webhook endpoints, without their secrets.");
        group.MapGet("/{id}", GetAsync).ForMerchant(ApiKeyScopes.WebhooksWrite)
            .WithSummary("Get a webhook endpoint")
            .WithDescription("One webhook endpoint, without its secret.");
        group.MapPatch("/{id}", UpdateAsync).ForMerchant(ApiKeyScopes.WebhooksWrite).Accepts<UpdateWebhookEndpointRequest>("application/json", "*/*")
            .WithSummary("Update a webhook endpoint")
            .WithDescription("Changes the fields given: url, events, description, or enabled (false pauses deliveries).");
        group.MapDelete("/{id}", DeleteAsync).ForMerchant(ApiKeyScopes.WebhooksWrite)
            .WithSummary("Delete a webhook endpoint")
            .WithDescription("No more events are sent to it.");
        group.MapPost("/{id}/rotate-secret", RotateAsync).ForMerchant(ApiKeyScopes.WebhooksWrite, idempotent: true)
            .WithSummary("Rotate a webhook endpoint's secret")
            .WithDescription("Answers the new secret; while it rotates, deliveries carry a signature from each secret.");
        endpoints.MapGet("/v1/webhook-deliveries", DeliveriesAsync).WithTags("Webhooks").ForMerchant(ApiKeyScopes.WebhooksWrite)
            .WithSummary("List webhook deliveries")
            .WithDescription($"The latest {MaxListed} deliveries with their attempts.")
            .Query("endpoint_id", "Only deliveries to this endpoint (we_…).")
            .Query("event_id", "Only deliveries of this event (evt_…).")
            .Query("status", "Only deliveries in this status.", values: ["pending", "sending", "delivered", "failed"]);
        endpoints.MapPost("/v1/events/{id}/redeliver", RedeliverAsync).WithTags("Webhooks").ForMerchant(ApiKeyScopes.WebhooksWrite)
            .WithSummary("Redeliver an event")
            .WithDescription("Sends the event (evt_…) again to every endpoint it went to, with the same webhook-id.");
        endpoints.MapPost("/v1/webhooks/test", TestAsync).WithTags("Webhooks").ForMerchant(ApiKeyScopes.WebhooksWrite).Accepts<SendTestWebhookRequest>("application/json", "*/*")
            .WithSummary("Send a test event")
            .WithDescription("Sends an event of the given type, carrying one of the key's invoices, to the endpoints subscribed to it.")
            .Problem(StatusCodes.Status404NotFound, "NOT_FOUND: no such invoice in this key's merchant and mode.");
        endpoints.MapGet("/v1/webhooks/callback-secret", CallbackSecretAsync).WithTags("Webhooks").ForMerchant(ApiKeyScopes.WebhooksWrite)
            .WithSummary("The secret that signs deliveries to invoices' callback_url")
            .WithDescription("One secret per merchant and mode (Standard Webhooks, whsec_…), created on the first ask and the same after. " +
                "While a rotated-out secret still signs, previous_secret_expires_at says until when.");
        endpoints.MapPost("/v1/webhooks/callback-secret/rotate", RotateCallbackSecretAsync).WithTags("Webhooks").ForMerchant(ApiKeyScopes.WebhooksWrite, idempotent: true)
            .WithSummary("Rotate the callback_url signing secret")
            .WithDescription("Answers a new secret. The one it replaces keeps signing beside it for 24 hours (deliveries carry both signatures), " +
                "so receivers can switch without losing a delivery. Send an Idempotency-Key so a retry gets the same secret.");
        return endpoints;
    }

    private static IWebhookEndpointsGrain Registry(IGrainFactory grains, MerchantCaller caller) =>
        grains.GetGrain<IWebhookEndpointsGrain>(WebhookEndpointsGrain.KeyFor(caller.MerchantId, caller.Mode));

    private static async Task<Results<Created<WebhookEndpointResponse>, ProblemHttpResult>> CreateAsync(HttpContext context, IGrainFactory grains, IOptions<WebhookOptions> options, WebhookFormats formats)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var url = Url(body, options.Value, required: true);
        var events = Events(body);
        var description = body.Text("description", MaxDescription);
        var format = body.String("format", 40) ?? StandardWebhookFormat.FormatName;
        if (!formats.Knows(format))
        {
            body.Fail("format", $"'{format}' is not a webhook format; known: {string.Join(", ", formats.Names.Order(StringComparer.Ordinal))}.");
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        var id = "we_" + (context.IdempotentId("webhook-endpoint") is { } derived
            ? derived.ToString("N")[..24]
            : RandomNumberGenerator.GetHexString(24, lowercase: true));
        var created = await Registry(grains, context.Caller()).Create(
            new WebhookEndpointDraft(id, url!, events ?? [], description, WebhookSignature.GenerateSecret()) { Format = format });
        return created is null
            ? ApiProblem.Invalid("url", $"a merchant has at most {WebhookEndpointsGrain.MaxEndpoints} webhook endpoints per mode.")
            : TypedResults.Created($"/v1/webhook-endpoints/{id}", created.ToResponse(withSecret: true));
    }

    private static async Task<Ok<WebhookEndpointListResponse>> ListAsync(HttpContext context, IGrainFactory grains) =>
        TypedResults.Ok(new WebhookEndpointListResponse([.. (await Registry(grains, context.Caller()).List()).Select(e => e.ToResponse())]));

    private static async Task<Results<Ok<WebhookEndpointResponse>, ProblemHttpResult>> GetAsync(string id, HttpContext context, IGrainFactory grains) =>
        (await Registry(grains, context.Caller()).List()).FirstOrDefault(e => e.Id == id) is { } endpoint
            ? TypedResults.Ok(endpoint.ToResponse())
            : ApiProblem.NotFound("webhook endpoint");

    private static async Task<Results<Ok<WebhookEndpointResponse>, ProblemHttpResult>> UpdateAsync(string id, HttpContext context, IGrainFactory grains, IOptions<WebhookOptions> options)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var url = Url(body, options.Value, required: false);
        var events = Events(body);
        var description = body.Text("description", MaxDescription);
        var enabled = body.Boolean("enabled");

        if (!body.IsValid)
        {
            return body.Problem();
        }

        return await Registry(grains, context.Caller()).Update(id, new WebhookEndpointPatch(url, events, description, enabled)) is { } updated
            ? TypedResults.Ok(updated.ToResponse())
            : ApiProblem.NotFound("webhook endpoint");
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, HttpContext context, IGrainFactory grains) =>
        await Registry(grains, context.Caller()).Delete(id) ? TypedResults.NoContent() : ApiProblem.NotFound("webhook endpoint");

    private static async Task<Results<Ok<WebhookEndpointResponse>, ProblemHttpResult>> RotateAsync(string id, HttpContext context, IGrainFactory grains) =>
        await Registry(grains, context.Caller()).RotateSecret(id, WebhookSignature.GenerateSecret()) is { } rotated
            ? TypedResults.Ok(rotated.ToResponse(withSecret: true))
            : ApiProblem.NotFound("webhook endpoint");

    private static async Task<Ok<CallbackSecretResponse>> CallbackSecretAsync(HttpContext context, IGrainFactory grains) =>
        WithSecret(context, await Registry(grains, context.Caller()).GetCallbackSecret());

    private static async Task<Ok<CallbackSecretResponse>> RotateCallbackSecretAsync(HttpContext context, IGrainFactory grains) =>
        WithSecret(context, await Registry(grains, context.Caller()).RotateCallbackSecret(WebhookSignature.GenerateSecret()));

    /// <summary>An answer holding a secret is not for caches.</summary>
    private static Ok<CallbackSecretResponse> WithSecret(HttpContext context, CallbackSecret secret)
    {
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Ok(new CallbackSecretResponse(secret.Secret, secret.PreviousExpiresAt));
    }

    private static async Task<Results<Ok<WebhookDeliveryListResponse>, ProblemHttpResult>> DeliveriesAsync(HttpContext context, IWebhookDeliveryQuery query, string? endpoint_id, string? event_id, string? status)
    {
        WebhookDeliveryStatus? wanted = null;
        if (status is not null)
        {
            if (!Enum.GetValues<WebhookDeliveryStatus>().Any(s => Grains.Invoices.InvoiceProjection.Name(s) == status))
            {
                return ApiProblem.Invalid("status", "must be one of pending, sending, delivered, failed.");
            }

            wanted = Enum.GetValues<WebhookDeliveryStatus>().First(s => Grains.Invoices.InvoiceProjection.Name(s) == status);
        }

        var caller = context.Caller();
        var items = await query.ListAsync(new WebhookDeliveryFilter(caller.MerchantId, caller.Mode, endpoint_id, event_id, wanted, MaxListed), context.RequestAborted);
        return TypedResults.Ok(new WebhookDeliveryListResponse([.. items.Select(d => d.ToResponse())]));
    }

    private static async Task<Results<Ok<WebhookDeliveryListResponse>, ProblemHttpResult>> RedeliverAsync(string id, HttpContext context, IGrainFactory grains, IWebhookDeliveryQuery query)
    {
        var caller = context.Caller();
        var deliveries = await query.ListAsync(new WebhookDeliveryFilter(caller.MerchantId, caller.Mode, null, id, null, MaxListed), context.RequestAborted);
        if (deliveries.Count == 0)
        {
            return ApiProblem.NotFound("event");
        }

        var redelivered = new List<WebhookDeliveryResponse>();
        foreach (var delivery in deliveries)
        {
            if (await grains.GetGrain<IWebhookDeliveryGrain>(delivery.Spec!.Id).Redeliver() is { } state)
            {
                redelivered.Add(state.ToResponse());
            }
        }

        return TypedResults.Ok(new WebhookDeliveryListResponse(redelivered));
    }

    private static async Task<Results<Ok<WebhookTestResponse>, ProblemHttpResult>> TestAsync(HttpContext context, IGrainFactory grains, [FromKeyedServices(GatewayClock.Key)] TimeProvider time)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var invoiceId = body.String("invoice_id", 64, required: true);
        var status = body.String("status", 40, required: true);
        var type = status is null ? null : WebhookEventTypes.ForStatus(status);
        if (status is not null && type is null)
        {
            body.Fail("status", "must be an invoice status or event name (pending, confirming, confirmed, paid_partial, expired, cancelled, payment_detected, overpaid, paid_late).");
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        var (sent, notFound) = await SendTestEventAsync(context.Caller(), grains, time, invoiceId!, type!, toCallbackUrl: false);
        return sent is null ? notFound! : TypedResults.Ok(sent);
    }

    /// <summary>
    /// Sends a test event of <paramref name="type"/> carrying one of the caller's invoices, shown as that event would show
    /// it, to the subscribed endpoints (and the invoice's callback_url when asked); a 404 for an invoice the caller has not.
    /// </summary>
    public static async Task<(WebhookTestResponse? Sent, ProblemHttpResult? Problem)> SendTestEventAsync(
        MerchantCaller caller, IGrainFactory grains, TimeProvider time, string invoiceId, string type, bool toCallbackUrl)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (await InvoiceEndpoints.FindAsync(grains, caller, invoiceId) is not { } invoice)
        {
            return (null, ApiProblem.NotFound("invoice"));
        }

        var eventId = "evt_" + Guid.NewGuid().ToString("N");
        var draft = new WebhookEventDraft(type, time.GetUtcNow().ToUnixTimeSeconds(), WebhookEventTypes.SampleFor(invoice, type));
        var count = await Registry(grains, caller).PublishTest(eventId, draft, toCallbackUrl);
        return (new WebhookTestResponse(eventId, type, count), null);
    }

    private static string? Url(JsonBody body, WebhookOptions options, bool required)
    {
        var url = body.String("url", WebhookTargetGuard.MaxUrlLength + 1, required);
        if (url is not null && WebhookTargetGuard.ValidateUrl(url, options.AllowPrivateTargets) is { } error)
        {
            body.Fail("url", error);
            return null;
        }

        return url;
    }

    private static IReadOnlyList<string>? Events(JsonBody body)
    {
        var events = body.StringList("events", WebhookEventTypes.All.Count, 64);
        if (events?.FirstOrDefault(e => !WebhookEventTypes.All.Contains(e)) is { } unknown)
        {
            body.Fail("events", $"'{unknown}' is not an event type; known: {string.Join(", ", WebhookEventTypes.All)}.");
            return null;
        }

        return events;
    }
}
