using CryptoPay.Api.Access;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Json;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using Orleans;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CryptoPay.Api.Invoices;

public sealed record CreateInvoiceRequest(
    string Amount, string Currency, string? Network, IReadOnlyList<string>? PaymentMethods, string? OrderId, string? Description,
    string? CustomerId, string? CustomerEmail, Dictionary<string, object>? Metadata, IReadOnlyList<LineItemResponse>? LineItems,
    int? ExpiresIn, int? ExpireMin, string? AllowedErrorPercent, string? CallbackUrl, string? RedirectUrl);

public sealed record ImportInvoiceRequest(string Amount, string Currency, string CreatedAt, string? OrderId, string? Description, string? CustomerId, Dictionary<string, object>? Metadata);

public sealed record MarkInvoiceRequest(string Status, string? Comment);

public sealed record PaginationResponse(int Page, int PageSize, long Total, bool HasMore);

public sealed record InvoiceListResponse(IReadOnlyList<InvoiceResponse> Items, PaginationResponse Pagination);

public sealed record StatusTotalResponse(long Count, string Amount, string PaidAmount);

public sealed record InvoiceTotalsResponse(string Currency, long Count, string Amount, string PaidAmount, IReadOnlyDictionary<string, StatusTotalResponse> ByStatus);

/// <summary>Invoices: create, read, list, totals, cancel, manual marking, archived import and the public status.</summary>
public static class InvoiceEndpoints
{
    public static IEndpointRouteBuilder MapInvoices(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/invoices").WithTags("Invoices");
        group.MapPost("", CreateAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true).Accepts<CreateInvoiceRequest>("application/json", "*/*");
        group.MapPost("/archived", ImportAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true).Accepts<ImportInvoiceRequest>("application/json", "*/*");
        group.MapGet("", ListAsync).ForMerchant(ApiKeyScopes.InvoicesRead);
        group.MapGet("/totals", TotalsAsync).ForMerchant(ApiKeyScopes.InvoicesRead);
        group.MapGet("/{id}", GetAsync).ForMerchant(ApiKeyScopes.InvoicesRead);
        group.MapGet("/{id}/status", StatusAsync).Public();
        group.MapInvoiceEvents();
        group.MapPost("/{id}/cancel", CancelAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true);
        group.MapPatch("/{id}", MarkAsync).ForMerchant(ApiKeyScopes.InvoicesWrite).Accepts<MarkInvoiceRequest>("application/json", "*/*");
        return endpoints;
    }

    /// <summary>The caller's invoice, or null: another merchant's or another mode's invoice does not exist for it.</summary>
    public static async Task<InvoiceState?> FindAsync(IGrainFactory grains, MerchantCaller caller, string id) =>
        Guid.TryParse(id, out var invoiceId) && await grains.GetGrain<IInvoiceGrain>(invoiceId).Get() is { } invoice &&
        invoice.Spec.MerchantId == caller.MerchantId && invoice.Spec.Mode == caller.Mode
            ? invoice
            : null;

    public static string CheckoutBase(HttpContext context, ApiOptions options) =>
        options.PublicBaseUrl ?? $"{context.Request.Scheme}://{context.Request.Host}";

    private static async Task<Results<Created<InvoiceResponse>, ProblemHttpResult>> CreateAsync(HttpContext context, [FromKeyedServices(GatewayClock.Key)] TimeProvider time, IOptions<ApiOptions> api)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        return body is null ? problem! : await CreateForAsync(context, context.Caller(), body, time, api, NewInvoiceId(context));
    }

    /// <summary>The id a created invoice gets: derived from the request's Idempotency-Key when it has one, so a retry finds it.</summary>
    private static (Guid Id, string? Fingerprint) NewInvoiceId(HttpContext context)
    {
        if (context.IdempotentRequest() is not { } request)
        {
            return (Guid.NewGuid(), null);
        }

        var caller = context.Caller();
        return (InvoiceIds.ForIdempotencyKey(caller.MerchantId, caller.Mode, request.Key, request.Generation), request.Fingerprint);
    }

    /// <summary>Creates an invoice for <paramref name="caller"/> from a request body (the API's, or one a payment link composed).</summary>
    public static async Task<Results<Created<InvoiceResponse>, ProblemHttpResult>> CreateForAsync(
        HttpContext context, MerchantCaller caller, JsonBody body, TimeProvider time, IOptions<ApiOptions> api, (Guid Id, string? Fingerprint) newInvoice)
    {
        if (InvoiceDraft.Parse(body, archived: false, time.GetUtcNow()) is not { } order)
        {
            return body.Problem();
        }

        var result = await context.RequestServices.GetRequiredService<InvoiceCreation>()
            .CreateAsync(order, Requester(caller), newInvoice.Id, newInvoice.Fingerprint, context.RequestAborted);
        return Created(context, api.Value, result);
    }

    private static async Task<Results<Created<InvoiceResponse>, ProblemHttpResult>> ImportAsync(HttpContext context, [FromKeyedServices(GatewayClock.Key)] TimeProvider time, IOptions<ApiOptions> api)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        if (InvoiceDraft.Parse(body, archived: true, time.GetUtcNow()) is not { } order)
        {
            return body.Problem();
        }

        var (id, fingerprint) = NewInvoiceId(context);
        var result = await context.RequestServices.GetRequiredService<InvoiceCreation>()
            .ImportAsync(order, Requester(context.Caller()), id, fingerprint, context.RequestAborted);
        return Created(context, api.Value, result);
    }

    private static InvoiceRequester Requester(MerchantCaller caller) => new(caller.MerchantId, caller.Mode, caller.Merchant);

    private static Results<Created<InvoiceResponse>, ProblemHttpResult> Created(HttpContext context, ApiOptions api, InvoiceCreationResult result)
    {
        if (result.Invoice is { } invoice)
        {
            return TypedResults.Created($"/v1/invoices/{invoice.Id}", invoice.ToResponse(CheckoutBase(context, api), context.PaymentUris()));
        }

        var refusal = result.Refusal!;
        return refusal.Reason switch
        {
            InvoiceRefusalReason.RatesUnavailable => ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, ErrorCodes.RatesUnavailable, refusal.Message),
            InvoiceRefusalReason.AmountAboveLimit => ApiProblem.Invalid(refusal.Field!, refusal.Message, ErrorCodes.InvalidAmountRange),
            InvoiceRefusalReason.AmountBelowMinimum => ApiProblem.Invalid(refusal.Field!, refusal.Message, ErrorCodes.AmountBelowMinimum),
            InvoiceRefusalReason.UnsupportedNetwork => ApiProblem.Invalid(refusal.Field!, refusal.Message, ErrorCodes.UnsupportedNetwork),
            InvoiceRefusalReason.OrderIdExists => ApiProblem.Create(StatusCodes.Status409Conflict, ErrorCodes.OrderIdExists, refusal.Message,
                extra: new Dictionary<string, object?> { ["invoice_id"] = refusal.ExistingInvoiceId }),
            _ => throw new InvalidOperationException($"Unknown refusal {refusal.Reason}."),
        };
    }

    private static async Task<Results<Ok<InvoiceResponse>, ProblemHttpResult>> GetAsync(string id, HttpContext context, IGrainFactory grains, IOptions<ApiOptions> api) =>
        await FindAsync(grains, context.Caller(), id) is { } invoice
            ? TypedResults.Ok(invoice.ToResponse(CheckoutBase(context, api.Value), context.PaymentUris()))
            : ApiProblem.NotFound("invoice");

    private static async Task<Results<Ok<InvoiceStatusResponse>, StatusCodeHttpResult, ProblemHttpResult>> StatusAsync(string id, HttpContext context, IGrainFactory grains, [FromKeyedServices(GatewayClock.Key)] TimeProvider time)
    {
        if (!Guid.TryParse(id, out var invoiceId) || await grains.GetGrain<IInvoiceGrain>(invoiceId).GetStatus() is not { } stored)
        {
            return ApiProblem.NotFound("invoice");
        }

        var invoice = stored.AsOf(time.GetUtcNow());
        var etag = $"\"{invoice.Id:N}-{invoice.Revision}\"";
        context.Response.Headers.ETag = etag;
        context.Response.Headers.CacheControl = "no-cache";
        return context.Request.Headers.IfNoneMatch.Any(v => v is not null && v.Split(',').Select(t => t.Trim()).Contains(etag))
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.Ok(invoice.ToStatus());
    }

    private static async Task<Results<Ok<InvoiceListResponse>, ProblemHttpResult>> ListAsync(HttpContext context, IInvoiceQuery query, IOptions<ApiOptions> api)
    {
        var caller = context.Caller();
        var q = context.Request.Query;
        var errors = new Dictionary<string, string[]>();
        InvoiceStatus? status = null;
        if (q["status"].ToString() is { Length: > 0 } statusText)
        {
            status = Enum.GetValues<InvoiceStatus>().Cast<InvoiceStatus?>().FirstOrDefault(s => InvoiceProjection.Name(s!.Value) == statusText);
            if (status is null)
            {
                errors["status"] = [$"'{statusText}' is not an invoice status."];
            }
        }

        int Number(string name, int fallback, int min, int max)
        {
            var text = q[name].ToString();
            if (text.Length == 0)
            {
                return fallback;
            }

            if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                errors[name] = [$"must be an integer from {min} to {max}."];
                return fallback;
            }

            return value;
        }

        DateTimeOffset? Date(string name)
        {
            var text = q[name].ToString();
            if (text.Length == 0)
            {
                return null;
            }

            var parsed = InvoiceDraft.ParseDate(text);
            if (parsed is null)
            {
                errors[name] = ["must be an RFC 3339 timestamp or yyyy-MM-dd."];
            }

            return parsed;
        }

        var page = Number("page", 1, 1, 1_000_000);
        var pageSize = Number("page_size", 20, 1, 100);
        var sortBy = q["sort_by"].ToString() switch
        {
            "" or "created_at" => InvoiceSort.CreatedAt,
            "updated_at" => InvoiceSort.UpdatedAt,
            "amount" => InvoiceSort.Amount,
            var other => Fail(errors, "sort_by", $"'{other}' is not one of created_at, updated_at, amount.", InvoiceSort.CreatedAt),
        };
        var descending = q["sort_order"].ToString() switch
        {
            "" or "desc" => true,
            "asc" => false,
            var other => Fail(errors, "sort_order", $"'{other}' is not asc or desc.", true),
        };
        var filter = new InvoiceFilter
        {
            MerchantId = caller.MerchantId,
            Mode = caller.Mode,
            Status = status,
            Currency = Text(q["currency"].ToString())?.ToUpperInvariant(),
            Network = Text(q["network"].ToString()),
            OrderId = Text(q["order_id"].ToString()),
            CustomerId = Text(q["customer_id"].ToString()),
            CreatedAfter = Date("created_after"),
            CreatedBefore = Date("created_before"),
            SortBy = sortBy,
            Descending = descending,
            Page = page,
            PageSize = pageSize,
        };
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(ErrorCodes.ValidationFailed, errors);
        }

        var result = await query.ListAsync(filter, context.RequestAborted);
        var checkout = CheckoutBase(context, api.Value);
        var uris = context.PaymentUris();
        return TypedResults.Ok(new InvoiceListResponse(
            [.. result.Items.Select(i => i.ToResponse(checkout, uris))],
            new PaginationResponse(page, pageSize, result.Total, (long)page * pageSize < result.Total)));
    }

    private static async Task<Ok<InvoiceTotalsResponse>> TotalsAsync(HttpContext context, IInvoiceQuery query)
    {
        var caller = context.Caller();
        var totals = await query.TotalsAsync(caller.MerchantId, caller.Mode, caller.Merchant.ReportingCurrency, context.RequestAborted);
        var decimals = Assets.ReportingDecimals(totals.ReportingCurrency);
        return TypedResults.Ok(new InvoiceTotalsResponse(
            totals.ReportingCurrency,
            totals.ByStatus.Sum(t => t.Count),
            Amounts.Format(totals.ByStatus.Sum(t => t.Amount), decimals),
            Amounts.Format(totals.ByStatus.Sum(t => t.PaidAmount), decimals),
            totals.ByStatus.ToDictionary(
                t => InvoiceProjection.Name(t.Status),
                t => new StatusTotalResponse(t.Count, Amounts.Format(t.Amount, decimals), Amounts.Format(t.PaidAmount, decimals)))));
    }

    private static async Task<Results<Ok<InvoiceResponse>, ProblemHttpResult>> CancelAsync(string id, HttpContext context, IGrainFactory grains, IOptions<ApiOptions> api)
    {
        if (await FindAsync(grains, context.Caller(), id) is not { } invoice)
        {
            return ApiProblem.NotFound("invoice");
        }

        var cancelled = await grains.GetGrain<IInvoiceGrain>(invoice.Id).Cancel();
        return TypedResults.Ok(cancelled.ToResponse(CheckoutBase(context, api.Value), context.PaymentUris()));
    }

    private static async Task<Results<Ok<InvoiceResponse>, ProblemHttpResult>> MarkAsync(string id, HttpContext context, IGrainFactory grains, IOptions<ApiOptions> api)
    {
        if (await FindAsync(grains, context.Caller(), id) is not { } invoice)
        {
            return ApiProblem.NotFound("invoice");
        }

        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var statusText = body.String("status", 20, required: true);
        var comment = body.Text("comment", 500);
        InvoiceStatus? status = statusText switch { "confirmed" => InvoiceStatus.Confirmed, "cancelled" => InvoiceStatus.Cancelled, _ => null };
        if (statusText is not null && status is null)
        {
            body.Fail("status", "must be 'confirmed' or 'cancelled'.");
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        var marked = await grains.GetGrain<IInvoiceGrain>(invoice.Id).Mark(status!.Value, comment);
        return TypedResults.Ok(marked.ToResponse(CheckoutBase(context, api.Value), context.PaymentUris()));
    }

    private static string? Text(string value) => value.Length == 0 ? null : value;

    private static T Fail<T>(Dictionary<string, string[]> errors, string name, string message, T fallback)
    {
        errors[name] = [message];
        return fallback;
    }
}
