using System.ComponentModel;
using CryptoPay.Api.Access;
using CryptoPay.Api.Docs;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Json;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Storage;
using Orleans;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CryptoPay.Api.Invoices;

/// <summary>The body of <c>POST /v1/invoices</c>, for the OpenAPI document (the handler reads the JSON itself, <see cref="InvoiceDraft"/>).</summary>
public sealed record CreateInvoiceRequest(
    [property: Description("Exact decimal string (a JSON number is accepted too): > 0, at most the currency's decimals, at most 1,000,000 USD-equivalent.")] string Amount,
    [property: Description("Fiat (USD, EUR, …) or crypto asset (BTC, LTC, ETH, BNB, USDT, USDC); see GET /v1/currencies.")] string Currency,
    [property: Description("One network (btc, ltc, eth, bsc, tron, sandbox); or give payment_methods, not both.")] string? Network = null,
    [property: Description("Payment methods offered (usdt_tron, btc_btc, …); default: every method the merchant enabled.")] IReadOnlyList<string>? PaymentMethods = null,
    [property: Description("Your order reference, unique per merchant and mode: a reuse is 409 ORDER_ID_EXISTS naming the existing invoice.")] string? OrderId = null,
    [property: Description("Shown to the customer; at most 100 characters.")] string? Description = null,
    string? CustomerId = null,
    string? CustomerEmail = null,
    [property: Description("Your data, returned as given: at most 50 keys and 8 KiB.")] Dictionary<string, object>? Metadata = null,
    [property: Description("Items whose amount × quantity add up to amount.")] IReadOnlyList<LineItemResponse>? LineItems = null,
    [property: Description("Seconds until expiry, 60 to 604800 (7 days); default 1800. Or give expire_min, not both.")] int? ExpiresIn = null,
    [property: Description("Minutes until expiry, 1 to 10080.")] int? ExpireMin = null,
    [property: Description("Underpayment tolerance in percent, 0 to 100.")] string? AllowedErrorPercent = null,
    [property: Description("A webhook URL for this invoice's events, signed like the webhook endpoints'.")] string? CallbackUrl = null,
    [property: Description("Where the checkout page sends the customer back to.")] string? RedirectUrl = null);

/// <summary>The body of <c>POST /v1/invoices/archived</c>.</summary>
public sealed record ImportInvoiceRequest(
    string Amount, string Currency,
    [property: Description("In the past: RFC 3339 (0 to 9 fraction digits), yyyy-MM-dd, yyyy-MM-dd HH:mm:ss or dd/MM/yyyy HH:mm:ss.")] string CreatedAt,
    string? OrderId = null, string? Description = null, string? CustomerId = null, Dictionary<string, object>? Metadata = null);

/// <summary>The body of <c>PATCH /v1/invoices/{id}</c>.</summary>
public sealed record MarkInvoiceRequest([property: Description("confirmed or cancelled.")] string Status, [property: Description("Why; at most 500 characters.")] string? Comment = null);

public sealed record PaginationResponse(int Page, int PageSize, long Total, bool HasMore)
{
    /// <summary>Where a page of <paramref name="filter"/> stands among <paramref name="total"/> matching invoices.</summary>
    public static PaginationResponse Of(InvoiceFilter filter, long total)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return new(filter.Page, filter.PageSize, total, (long)filter.Page * filter.PageSize < total);
    }
}

public sealed record InvoiceListResponse(IReadOnlyList<InvoiceResponse> Items, PaginationResponse Pagination);

public sealed record StatusTotalResponse(long Count, string Amount, string PaidAmount);

public sealed record InvoiceTotalsResponse(string Currency, long Count, string Amount, string PaidAmount, IReadOnlyDictionary<string, StatusTotalResponse> ByStatus);

/// <summary>Invoices: create, read, list, totals, cancel, manual marking, archived import and the public status.</summary>
public static class InvoiceEndpoints
{
    /// <summary>The longest comment a manual marking keeps, in characters.</summary>
    public const int MaxComment = 500;

    public static IEndpointRouteBuilder MapInvoices(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/invoices").WithTags("Invoices");
        group.MapPost("", CreateAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true).Accepts<CreateInvoiceRequest>("application/json", "*/*")
            .WithSummary("Create an invoice")
            .WithDescription("Prices the invoice in each payment method (a fiat amount at rates locked until expiry) and answers it with its checkout_url. " +
                "With exactly one payment method its address is in the answer; otherwise the customer picks one on the checkout page.")
            .RequestExample("""
                {"amount": "25.00", "currency": "USD", "payment_methods": ["usdt_sandbox"], "order_id": "order-1001",
                 "description": "Blue mug", "metadata": {"cart": "c-77"}, "expires_in": 1800,
                 "redirect_url": "https://shop.example/thanks"}
                """)
            .Problem(StatusCodes.Status400BadRequest, "INVALID_AMOUNT_RANGE or AMOUNT_BELOW_MINIMUM: the amount is outside what the gateway or a payment method accepts; UNSUPPORTED_NETWORK: a method the merchant does not offer.")
            .Problem(StatusCodes.Status409Conflict, "ORDER_ID_EXISTS: the order_id names another invoice, given in `invoice_id`.")
            .Problem(StatusCodes.Status503ServiceUnavailable, "RATES_UNAVAILABLE: no fresh exchange rate to price a fiat amount.");
        group.MapPost("/archived", ImportAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true).Accepts<ImportInvoiceRequest>("application/json", "*/*")
            .WithSummary("Import a historical invoice")
            .WithDescription("Records an invoice created elsewhere in the past, with status archived; it is never watched for payments.");
        group.MapGet("", ListAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("List invoices")
            .WithDescription("The key's invoices, newest first unless sorted otherwise, one page at a time.")
            .Query("page", "Page number.", "integer", minimum: 1, @default: 1)
            .Query("page_size", "Invoices per page.", "integer", minimum: 1, maximum: 100, @default: 20)
            .Query("status", "Only invoices in this status.", values: [.. Enum.GetValues<InvoiceStatus>().Select(InvoiceProjection.Name)])
            .Query("currency", "Only invoices priced in this currency (USD, BTC, …).")
            .Query("network", "Only invoices offering this network (btc, tron, …).")
            .Query("order_id", "Only the invoice with this order_id.")
            .Query("customer_id", "Only this customer's invoices.")
            .Query("created_after", "Only invoices created at or after this time (RFC 3339, or yyyy-MM-dd).", format: "date-time")
            .Query("created_before", "Only invoices created before this time (RFC 3339, or yyyy-MM-dd).", format: "date-time")
            .Query("sort_by", "The order of the list.", values: ["created_at", "updated_at", "amount"], @default: "created_at")
            .Query("sort_order", "Ascending or descending.", values: ["asc", "desc"], @default: "desc");
        group.MapGet("/totals", TotalsAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("Invoice totals")
            .WithDescription("Counts and amounts per status, summed in the merchant's reporting currency.");
        group.MapGet("/{id}", GetAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("Get an invoice")
            .WithDescription("The invoice with its payment methods, payments and confirmations.");
        group.MapGet("/{id}/status", StatusAsync).Public()
            .WithSummary("Get an invoice's status")
            .WithDescription("A cheap public read: {id, status, expires_at_ts}. Answers an ETag; send it back as If-None-Match to get 304 while nothing changed.");
        group.MapInvoiceEvents();
        group.MapPost("/{id}/cancel", CancelAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true)
            .WithSummary("Cancel an invoice")
            .WithDescription("Cancels an invoice nothing was paid to.")
            .Problem(StatusCodes.Status409Conflict, "INVALID_STATE_TRANSITION: the invoice was paid to, or is final.");
        group.MapPatch("/{id}", MarkAsync).ForMerchant(ApiKeyScopes.InvoicesWrite).Accepts<MarkInvoiceRequest>("application/json", "*/*")
            .WithSummary("Mark an invoice")
            .WithDescription("Manually marks the invoice confirmed or cancelled; it is recorded with exception `marked` and the comment.")
            .Problem(StatusCodes.Status409Conflict, "INVALID_STATE_TRANSITION: the invoice cannot move to that status.");
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

    /// <summary>The checkout base of the request's gateway (<see cref="CheckoutBase(HttpContext, ApiOptions)"/>), from its services.</summary>
    public static string CheckoutBase(HttpContext context) =>
        CheckoutBase(context, context.RequestServices.GetRequiredService<IOptions<ApiOptions>>().Value);

    private static async Task<Results<Created<InvoiceResponse>, ProblemHttpResult>> CreateAsync(HttpContext context, [FromKeyedServices(GatewayClock.Key)] TimeProvider time, IOptions<ApiOptions> api)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        return body is null ? problem! : await CreateForAsync(context, context.Caller(), body, time, api, NewInvoiceId(context));
    }

    /// <summary>The id a created invoice gets: derived from the request's Idempotency-Key when it has one, so a retry finds it.</summary>
    public static (Guid Id, string? Fingerprint) NewInvoiceId(HttpContext context) =>
        context.IdempotentId(InvoiceIds.Kind) is { } id
            ? (id, context.IdempotentRequest()!.Fingerprint)
            : (InvoiceIds.Random(context.RequestServices.GetService<ProjectedGrainStorage>()), null);

    /// <summary>Creates an invoice for <paramref name="caller"/> from a request body (the API's, or one a payment link composed).</summary>
    public static async Task<Results<Created<InvoiceResponse>, ProblemHttpResult>> CreateForAsync(
        HttpContext context, MerchantCaller caller, JsonBody body, TimeProvider time, IOptions<ApiOptions> api, (Guid Id, string? Fingerprint) newInvoice)
    {
        var (invoice, problem) = await CreateStateAsync(context, caller, body, time, newInvoice, archived: false);
        return invoice is null
            ? problem!
            : TypedResults.Created($"/v1/invoices/{invoice.Id}", invoice.ToResponse(CheckoutBase(context, api.Value), context.PaymentUris()));
    }

    /// <summary>
    /// Creates (or imports, <paramref name="archived"/>) an invoice from a body in the <c>/v1</c> shape: the created invoice, or
    /// the problem that refused it. Every entry point that creates invoices comes through here.
    /// </summary>
    public static async Task<(InvoiceState? Invoice, ProblemHttpResult? Problem)> CreateStateAsync(
        HttpContext context, MerchantCaller caller, JsonBody body, TimeProvider time, (Guid Id, string? Fingerprint) newInvoice, bool archived, string? webhookFormat = null)
    {
        if (InvoiceDraft.Parse(body, archived, time.GetUtcNow()) is not { } parsed)
        {
            return (null, body.Problem());
        }

        var order = parsed with { WebhookFormat = webhookFormat };
        var creation = context.RequestServices.GetRequiredService<InvoiceCreation>();
        var result = archived
            ? await creation.ImportAsync(order, Requester(caller), newInvoice.Id, newInvoice.Fingerprint, context.RequestAborted)
            : await creation.CreateAsync(order, Requester(caller), newInvoice.Id, newInvoice.Fingerprint, context.RequestAborted);
        return result.Invoice is { } invoice ? (invoice, null) : (null, Refused(result.Refusal!));
    }

    private static async Task<Results<Created<InvoiceResponse>, ProblemHttpResult>> ImportAsync(HttpContext context, [FromKeyedServices(GatewayClock.Key)] TimeProvider time, IOptions<ApiOptions> api)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var (invoice, refused) = await CreateStateAsync(context, context.Caller(), body, time, NewInvoiceId(context), archived: true);
        return invoice is null
            ? refused!
            : TypedResults.Created($"/v1/invoices/{invoice.Id}", invoice.ToResponse(CheckoutBase(context, api.Value), context.PaymentUris()));
    }

    private static InvoiceRequester Requester(MerchantCaller caller) => new(caller.MerchantId, caller.Mode, caller.Merchant);

    private static ProblemHttpResult Refused(InvoiceRefusal refusal) => refusal.Reason switch
    {
        InvoiceRefusalReason.RatesUnavailable => ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, ErrorCodes.RatesUnavailable, refusal.Message),
        InvoiceRefusalReason.AmountAboveLimit => ApiProblem.Invalid(refusal.Field!, refusal.Message, ErrorCodes.InvalidAmountRange),
        InvoiceRefusalReason.AmountBelowMinimum => ApiProblem.Invalid(refusal.Field!, refusal.Message, ErrorCodes.AmountBelowMinimum),
        InvoiceRefusalReason.UnsupportedNetwork => ApiProblem.Invalid(refusal.Field!, refusal.Message, ErrorCodes.UnsupportedNetwork),
        InvoiceRefusalReason.OrderIdExists => ApiProblem.Create(StatusCodes.Status409Conflict, ErrorCodes.OrderIdExists, refusal.Message,
            extra: new Dictionary<string, object?> { ["invoice_id"] = refusal.ExistingInvoiceId }),
        _ => throw new InvalidOperationException($"Unknown refusal {refusal.Reason}."),
    };

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

    /// <summary>The list's sort_by values and what each sorts by.</summary>
    private static readonly Dictionary<string, InvoiceSort> SortNames = new(StringComparer.Ordinal)
    {
        ["created_at"] = InvoiceSort.CreatedAt,
        ["updated_at"] = InvoiceSort.UpdatedAt,
        ["amount"] = InvoiceSort.Amount,
    };

    private static async Task<Results<Ok<InvoiceListResponse>, ProblemHttpResult>> ListAsync(HttpContext context, IInvoiceQuery query, IOptions<ApiOptions> api)
    {
        var (filter, problem) = ListFilter(context, text => Enum.GetValues<InvoiceStatus>().Cast<InvoiceStatus?>().FirstOrDefault(s => InvoiceProjection.Name(s!.Value) == text), SortNames);
        if (filter is null)
        {
            return problem!;
        }

        var result = await query.ListAsync(filter, context.RequestAborted);
        var checkout = CheckoutBase(context, api.Value);
        var uris = context.PaymentUris();
        return TypedResults.Ok(new InvoiceListResponse([.. result.Items.Select(i => i.ToResponse(checkout, uris))], PaginationResponse.Of(filter, result.Total)));
    }

    /// <summary>
    /// The caller's list filter from the query string: status (named by <paramref name="statusOf"/>), currency, network,
    /// order_id, customer_id, created_after, created_before, page, page_size (1..100, default 20), sort_by (one of
    /// <paramref name="sortNames"/>, default created_at) and sort_order (default desc); or the problem with each bad parameter.
    /// </summary>
    public static (InvoiceFilter? Filter, ProblemHttpResult? Problem) ListFilter(
        HttpContext context, Func<string, InvoiceStatus?> statusOf, IReadOnlyDictionary<string, InvoiceSort> sortNames)
    {
        ArgumentNullException.ThrowIfNull(statusOf);
        ArgumentNullException.ThrowIfNull(sortNames);
        var caller = context.Caller();
        var q = context.Request.Query;
        var errors = new Dictionary<string, string[]>();
        InvoiceStatus? status = null;
        if (q["status"].ToString() is { Length: > 0 } statusText)
        {
            status = statusOf(statusText);
            if (status is null)
            {
                errors["status"] = [$"'{statusText}' is not an invoice status."];
            }
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

        var page = Routing.QueryNumbers.Read(q, "page", 1, Routing.QueryNumbers.MaxPage, errors);
        var pageSize = Routing.QueryNumbers.Read(q, "page_size", 20, 100, errors);
        var sortBy = q["sort_by"].ToString() switch
        {
            "" => InvoiceSort.CreatedAt,
            var name when sortNames.TryGetValue(name, out var sort) => sort,
            var other => Fail(errors, "sort_by", $"'{other}' is not one of {string.Join(", ", sortNames.Keys)}.", InvoiceSort.CreatedAt),
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
        return errors.Count > 0 ? (null, ApiProblem.Validation(ErrorCodes.ValidationFailed, errors)) : (filter, null);
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
        var comment = body.Text("comment", MaxComment);
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
