using System.Globalization;
using System.Text.Json;
using CryptoPay.Api.Access;
using CryptoPay.Api.Errors;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using Orleans;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CryptoPay.Api.Invoices;

/// <summary>One status event: the invoice's public state at one revision.</summary>
public sealed record InvoiceStatusEvent(Guid Id, string Status, string? Exception, long Revision, long ExpiresAtTs, DateTimeOffset UpdatedAt, string PaidAmount, ConfirmationsResponse Confirmations);

/// <summary>
/// <c>GET /v1/invoices/{id}/events</c>: a public Server-Sent Events stream of the invoice's changes.
/// The stream polls the invoice grain's read (one version check) every <see cref="ApiOptions.EventsPollInterval"/>
/// and writes an event whenever the revision moved; the event id is the revision, so a client that
/// reconnects with <c>Last-Event-ID</c> gets only what is newer. Comments keep idle connections open;
/// the stream ends once the invoice reached a status the checkout page stops waiting at.
/// </summary>
public static class InvoiceEventStream
{
    public static RouteHandlerBuilder MapInvoiceEvents(this RouteGroupBuilder group) =>
        group.MapGet("/{id}/events", StreamAsync).Public()
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream")
            .WithSummary("Follow an invoice's status")
            .WithDescription("Server-Sent Events: `event: status`, `id:` the invoice revision (send it back as Last-Event-ID to resume), " +
                "`data:` {id, status, exception, revision, expires_at_ts, updated_at, paid_amount, confirmations}. " +
                "A comment every 15 s keeps the connection open; the stream ends after confirmed, expired, paid_partial, cancelled or archived.");

    public static bool EndsStream(InvoiceStatus status) =>
        status is InvoiceStatus.Confirmed or InvoiceStatus.Expired or InvoiceStatus.PaidPartial or InvoiceStatus.Cancelled or InvoiceStatus.Archived;

    public static InvoiceStatusEvent ToEvent(this InvoiceState invoice)
    {
        var method = invoice.PaymentMethods.Find(m => m.Payments.Count > 0) ?? invoice.PaymentMethods.FirstOrDefault();
        return new InvoiceStatusEvent(
            invoice.Id,
            InvoiceProjection.Name(invoice.Status),
            invoice.Exception is { } exception ? InvoiceProjection.Name(exception) : null,
            invoice.Revision,
            invoice.Spec.ExpiresAt.ToUnixTimeSeconds(),
            invoice.UpdatedAt,
            method is null ? "0" : Grains.Catalog.Amounts.Format(method.PaidAmount, method.Decimals),
            new ConfirmationsResponse(method?.ReceivedConfirmations ?? 0, method?.RequiredConfirmations ?? 0));
    }

    private static async Task<Results<EmptyHttpResult, ProblemHttpResult>> StreamAsync(
        string id, HttpContext context, IGrainFactory grains, [FromKeyedServices(GatewayClock.Key)] TimeProvider time, IOptions<ApiOptions> api, IOptions<JsonOptions> json)
    {
        if (!Guid.TryParse(id, out var invoiceId) || await grains.GetGrain<IInvoiceGrain>(invoiceId).Get() is not { } invoice)
        {
            return ApiProblem.NotFound("invoice");
        }

        var options = api.Value;
        var serializer = json.Value.SerializerOptions;
        var ct = context.RequestAborted;
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        // Reverse proxies (nginx) must pass events through as they come.
        response.Headers["X-Accel-Buffering"] = "no";

        long.TryParse(context.Request.Headers["Last-Event-ID"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var sent);
        var lastWrite = time.GetUtcNow();
        try
        {
            await response.Body.FlushAsync(ct);
            while (true)
            {
                if (invoice.Revision > sent)
                {
                    var data = JsonSerializer.Serialize(invoice.ToEvent(), serializer);
                    await response.WriteAsync($"event: status\nid: {invoice.Revision.ToString(CultureInfo.InvariantCulture)}\ndata: {data}\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    sent = invoice.Revision;
                    lastWrite = time.GetUtcNow();
                }

                if (EndsStream(invoice.Status))
                {
                    return TypedResults.Empty;
                }

                await Task.Delay(options.EventsPollInterval, time, ct);
                if (time.GetUtcNow() - lastWrite >= options.EventsHeartbeatInterval)
                {
                    await response.WriteAsync(": heartbeat\n\n", ct);
                    await response.Body.FlushAsync(ct);
                    lastWrite = time.GetUtcNow();
                }

                invoice = await grains.GetGrain<IInvoiceGrain>(invoiceId).Get() ?? invoice;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away; nothing is left to answer.
            return TypedResults.Empty;
        }
    }
}
