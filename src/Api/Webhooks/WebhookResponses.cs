using System.Text.Json;
using CryptoPay.Api.Access;
using CryptoPay.Api.Hosting;
using CryptoPay.Api.Invoices;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Webhooks;
using Microsoft.Extensions.Options;

namespace CryptoPay.Api.Webhooks;

public sealed record WebhookEndpointResponse(
    string Id, string Url, IReadOnlyList<string> Events, string? Description, bool Enabled, string? DisabledReason,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? Secret, string Format);

public sealed record WebhookEndpointListResponse(IReadOnlyList<WebhookEndpointResponse> Data);

public sealed record WebhookAttemptResponse(int Number, DateTimeOffset StartedAt, int? HttpStatus, string? ResponseBody, string? Error, long DurationMs);

public sealed record WebhookDeliveryResponse(
    string Id, string EventId, string EventType, string EndpointId, string Url, string Status, string? FailureReason,
    DateTimeOffset CreatedAt, DateTimeOffset? NextAttemptAt, IReadOnlyList<WebhookAttemptResponse> Attempts);

public sealed record WebhookDeliveryListResponse(IReadOnlyList<WebhookDeliveryResponse> Data);

public sealed record WebhookTestResponse(string EventId, string Type, int Deliveries);

/// <summary>The callback_url signing secret; <c>previous_secret_expires_at</c> is set while a rotated-out secret still signs.</summary>
public sealed record CallbackSecretResponse(string Secret, DateTimeOffset? PreviousSecretExpiresAt);

public static class WebhookMapping
{
    /// <summary>The secret appears only in the answers to creation and rotation.</summary>
    public static WebhookEndpointResponse ToResponse(this WebhookEndpoint e, bool withSecret = false) =>
        new(e.Id, e.Url, e.Events, e.Description, e.Enabled, e.DisabledReason, e.CreatedAt, e.UpdatedAt, withSecret ? e.Secrets[0].Secret : null, e.Format);

    public static WebhookDeliveryResponse ToResponse(this WebhookDeliveryState d) => new(
        d.Spec!.Id, d.Spec.EventId, d.Spec.EventType, d.Spec.EndpointId, d.Spec.Url, InvoiceProjection.Name(d.Status), d.FailureReason,
        d.Spec.CreatedAt, d.NextAttemptAt,
        [.. d.Attempts.Select(a => new WebhookAttemptResponse(a.Number, a.StartedAt, a.HttpStatus, a.ResponseBody, a.Error, a.DurationMs))]);
}

/// <summary><c>data.object</c> of invoice events: the invoice exactly as <c>GET /v1/invoices/{id}</c> shows it.</summary>
public sealed class ApiInvoiceRenderer(IOptions<ApiOptions> api, PaymentUris uris) : IWebhookPayloadRenderer
{
    private static readonly JsonSerializerOptions Json = ApiHostingExtensions.Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public string Render(InvoiceState invoice) =>
        JsonSerializer.Serialize(invoice.ToResponse(api.Value.PublicBaseUrl ?? "http://localhost", uris), Json);

    /// <summary><c>data.object</c> of withdrawal events: the withdrawal exactly as <c>GET /v1/withdrawals/{id}</c> shows it.</summary>
    public string RenderWithdrawal(CryptoPay.Grains.Withdrawals.WithdrawalState withdrawal) =>
        JsonSerializer.Serialize(CryptoPay.Api.Withdrawals.WithdrawalResponses.ToResponse(withdrawal), Json);

    /// <summary><c>data.object</c> of settlement events: the batch exactly as the merchant's <c>GET /v1/settlements/{id}</c> shows it.</summary>
    public string RenderSettlement(CryptoPay.Grains.Settlements.SettlementState settlement, Guid merchantId) =>
        JsonSerializer.Serialize(CryptoPay.Api.Settlements.SettlementResponses.ToResponse(settlement, merchantId), Json);
}
