using CryptoPay.Api.Access;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Json;
using CryptoPay.Api.Rates;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Sandbox;
using CryptoPay.Runtime.Grains;
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

public sealed record StatusTotalResponse(long Count, string Amount);

public sealed record InvoiceTotalsResponse(string Currency, long Count, string Amount, IReadOnlyDictionary<string, StatusTotalResponse> ByStatus);

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

    private static async Task<Results<Created<InvoiceResponse>, ProblemHttpResult>> CreateAsync(
        HttpContext context, IGrainFactory grains, IRateProvider rates, TimeProvider time, IOptions<RateOptions> rateOptions, IOptions<ApiOptions> api)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        return body is null ? problem! : await CreateForAsync(context, context.Caller(), body, grains, rates, time, rateOptions, api);
    }

    /// <summary>Creates an invoice for <paramref name="caller"/> from a request body (the API's, or one a payment link composed).</summary>
    public static async Task<Results<Created<InvoiceResponse>, ProblemHttpResult>> CreateForAsync(
        HttpContext context, MerchantCaller caller, JsonBody body, IGrainFactory grains, IRateProvider rates, TimeProvider time, IOptions<RateOptions> rateOptions, IOptions<ApiOptions> api)
    {
        var now = time.GetUtcNow();
        if (InvoiceDraft.Parse(body, archived: false, now) is not { } draft)
        {
            return body.Problem();
        }

        var snapshot = await rates.GetAsync(context.RequestAborted);
        var fresh = snapshot is not null && now - snapshot.AsOf <= rateOptions.Value.MaxAge;
        if (draft.Currency.IsFiat && !fresh)
        {
            return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, ErrorCodes.RatesUnavailable, "Exchange rates are stale or unavailable; fiat-priced invoices cannot be created now. Crypto-priced invoices still work.");
        }

        if (ExceedsLimit(draft, snapshot) is { } limitProblem)
        {
            return limitProblem;
        }

        var live = context.RequestServices.GetRequiredService<LiveNetworks>();
        var id = Guid.NewGuid();
        var methods = ChooseMethods(draft, caller, body, live);
        if (methods is null)
        {
            return body.Problem();
        }

        var quoted = new List<InvoicePaymentMethod>();
        foreach (var method in methods)
        {
            var rate = draft.Currency.IsFiat ? snapshot!.Price(method.Asset, draft.Currency.Code) : 1m;
            if (rate is not { } price || price <= 0)
            {
                return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, ErrorCodes.RatesUnavailable, $"No {method.Asset}/{draft.Currency.Code} rate is known.");
            }

            var amount = Amounts.RoundUp(draft.Amount / price, method.Decimals);
            quoted.Add(new InvoicePaymentMethod
            {
                Method = method.Id,
                Network = method.Network,
                Asset = method.Asset,
                Decimals = method.Decimals,
                Address = method.IsSandbox ? SandboxChainGrain.AddressFor(id, method.Id) : null,
                Amount = amount,
                AmountUnits = Amounts.ToUnits(amount, method.Decimals),
                Rate = price,
                RequiredConfirmations = live.RequiredConfirmations(method, caller.Merchant),
            });
        }

        // API.md: with exactly one live method its address is in the response; with several the customer's choice allocates one.
        // Allocated last, once nothing else can refuse the request; an index lost to a later failure is skipped, never reused.
        if (quoted is [{ Address: null } only])
        {
            var deposit = await context.RequestServices.GetRequiredService<DepositAllocation>()
                .AllocateAsync(id, caller.MerchantId, caller.Mode, methods[0], only.RequiredConfirmations);
            only.Address = deposit.Address;
        }

        var spec = Spec(draft, caller, snapshot, now, now + draft.ExpiresIn, archived: false) with { PaymentMethods = quoted };
        return await OpenAsync(context, grains, api.Value, id, spec);
    }

    private static async Task<Results<Created<InvoiceResponse>, ProblemHttpResult>> ImportAsync(
        HttpContext context, IGrainFactory grains, IRateProvider rates, TimeProvider time, IOptions<ApiOptions> api)
    {
        var caller = context.Caller();
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var now = time.GetUtcNow();
        if (InvoiceDraft.Parse(body, archived: true, now) is not { } draft)
        {
            return body.Problem();
        }

        var snapshot = await rates.GetAsync(context.RequestAborted);
        if (snapshot?.Price(draft.Currency.Code, caller.Merchant.ReportingCurrency) is null)
        {
            return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, ErrorCodes.RatesUnavailable, "No rate is known to convert the amount to the reporting currency.");
        }

        if (ExceedsLimit(draft, snapshot) is { } limitProblem)
        {
            return limitProblem;
        }

        var created = draft.CreatedAt!.Value;
        return await OpenAsync(context, grains, api.Value, Guid.NewGuid(), Spec(draft, caller, snapshot, created, created, archived: true));
    }

    private static async Task<Results<Created<InvoiceResponse>, ProblemHttpResult>> OpenAsync(HttpContext context, IGrainFactory grains, ApiOptions api, Guid id, InvoiceSpec spec)
    {
        if (spec.OrderId is { } orderId)
        {
            var owner = await grains.GetGrain<IOrderIndexGrain>(OrderIndexGrain.KeyOf(spec.MerchantId, spec.Mode, orderId)).Reserve(id, spec);
            if (owner != id)
            {
                return ApiProblem.Create(StatusCodes.Status409Conflict, ErrorCodes.OrderIdExists, $"Order id '{orderId}' already belongs to invoice {owner}.", extra: new Dictionary<string, object?> { ["invoice_id"] = owner });
            }
        }

        // Without an order id nobody else knows the fresh id yet, so the invoice grain need not look for stored state.
        var reference = spec.OrderId is null ? grains.GetNewGrain<IInvoiceGrain>(id) : grains.GetGrain<IInvoiceGrain>(id);
        var invoice = await reference.Create(spec);
        return TypedResults.Created($"/v1/invoices/{id}", invoice.ToResponse(CheckoutBase(context, api), context.PaymentUris()));
    }

    private static InvoiceSpec Spec(InvoiceDraft draft, MerchantCaller caller, RateSnapshot? snapshot, DateTimeOffset createdAt, DateTimeOffset expiresAt, bool archived)
    {
        var reporting = Assets.FindCurrency(caller.Merchant.ReportingCurrency)!;
        var toReporting = snapshot?.Price(draft.Currency.Code, reporting.Code) ?? 0m;
        return new InvoiceSpec
        {
            MerchantId = caller.MerchantId,
            Mode = caller.Mode,
            Amount = draft.Amount,
            Currency = draft.Currency.Code,
            Description = draft.Description,
            OrderId = draft.OrderId,
            CustomerId = draft.CustomerId,
            CustomerEmail = draft.CustomerEmail,
            MetadataJson = draft.MetadataJson,
            LineItems = draft.LineItems,
            CreatedAt = createdAt,
            ExpiresAt = expiresAt,
            AllowedErrorPercent = draft.AllowedErrorPercent,
            CallbackUrl = draft.CallbackUrl,
            RedirectUrl = draft.RedirectUrl,
            ReportingCurrency = reporting.Code,
            AmountReporting = decimal.Round(draft.Amount * toReporting, reporting.Decimals, MidpointRounding.ToEven),
            Archived = archived,
        };
    }

    private static ProblemHttpResult? ExceedsLimit(InvoiceDraft draft, RateSnapshot? snapshot) =>
        snapshot?.Price(draft.Currency.Code, "USD") is { } usd && draft.Amount * usd > InvoiceDraft.MaxUsdAmount
            ? ApiProblem.Invalid("amount", $"must be at most {InvoiceDraft.MaxUsdAmount:0} USD-equivalent.", ErrorCodes.InvalidAmountRange)
            : null;

    /// <summary>
    /// The methods the invoice offers: those asked for, else the merchant's enabled ones, within the key's mode, the
    /// priced asset and (live) the networks this gateway has configured.
    /// </summary>
    private static List<PaymentMethodInfo>? ChooseMethods(InvoiceDraft draft, MerchantCaller caller, JsonBody body, LiveNetworks live)
    {
        var testMode = caller.Mode == Mode.Test;
        var enabled = caller.Merchant.EnabledPaymentMethods.Select(Assets.FindMethod).OfType<PaymentMethodInfo>().ToList();
        var candidates = draft.PaymentMethods is { } asked
            ? asked.Select(m => Assets.FindMethod(m)!).Distinct().ToList()
            : draft.Network is { } network
                ? Assets.Methods.Where(m => m.Network == network).ToList()
                : enabled.Where(m => m.IsSandbox == testMode).ToList();
        var field = draft.PaymentMethods is null ? "network" : "payment_methods";
        if (candidates.Exists(m => m.IsSandbox != testMode))
        {
            body.Fail(field, testMode ? "test-mode invoices are paid on the sandbox network only." : "the sandbox network is for test-mode keys only.", ErrorCodes.UnsupportedNetwork);
            return null;
        }

        if (!testMode)
        {
            var unconfigured = candidates.Where(m => !live.Offers(m, Mode.Live)).ToList();
            if (draft.PaymentMethods is not null && unconfigured.Count > 0)
            {
                body.Fail(field, $"{string.Join(", ", unconfigured.Select(m => $"'{m.Id}'"))} {(unconfigured.Count == 1 ? "is" : "are")} not configured for live payments on this gateway; "
                    + $"configured: {Configured(live)}.", ErrorCodes.UnsupportedNetwork);
                return null;
            }

            candidates = candidates.Except(unconfigured).ToList();
            if (candidates.Count == 0)
            {
                body.Fail(field, draft.Network is { } askedNetwork
                    ? $"the {askedNetwork} network is not configured for live payments on this gateway; configured: {Configured(live)}."
                    : $"none of the merchant's enabled payment methods is configured for live payments on this gateway; configured: {Configured(live)}.", ErrorCodes.UnsupportedNetwork);
                return null;
            }
        }

        var chosen = candidates.Where(m => enabled.Contains(m) && (draft.Currency.IsFiat || m.Asset == draft.Currency.Code)).ToList();
        if (chosen.Count == 0)
        {
            body.Fail(field, draft.Currency.IsFiat
                ? "none of the merchant's enabled payment methods applies."
                : $"no enabled payment method pays in {draft.Currency.Code}.", ErrorCodes.UnsupportedNetwork);
            return null;
        }

        return chosen;
    }

    private static string Configured(LiveNetworks live) =>
        live.MethodsFor(Mode.Live) is { Count: > 0 } methods ? string.Join(", ", methods.Select(m => m.Id)) : "none";

    private static async Task<Results<Ok<InvoiceResponse>, ProblemHttpResult>> GetAsync(string id, HttpContext context, IGrainFactory grains, IOptions<ApiOptions> api) =>
        await FindAsync(grains, context.Caller(), id) is { } invoice
            ? TypedResults.Ok(invoice.ToResponse(CheckoutBase(context, api.Value), context.PaymentUris()))
            : ApiProblem.NotFound("invoice");

    private static async Task<Results<Ok<InvoiceStatusResponse>, StatusCodeHttpResult, ProblemHttpResult>> StatusAsync(string id, HttpContext context, IGrainFactory grains)
    {
        if (!Guid.TryParse(id, out var invoiceId) || await grains.GetGrain<IInvoiceGrain>(invoiceId).GetStatus() is not { } invoice)
        {
            return ApiProblem.NotFound("invoice");
        }

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
        var decimals = Assets.FindCurrency(totals.ReportingCurrency)?.Decimals ?? 2;
        return TypedResults.Ok(new InvoiceTotalsResponse(
            totals.ReportingCurrency,
            totals.ByStatus.Sum(t => t.Count),
            Amounts.Format(totals.ByStatus.Sum(t => t.Amount), decimals),
            totals.ByStatus.ToDictionary(t => InvoiceProjection.Name(t.Status), t => new StatusTotalResponse(t.Count, Amounts.Format(t.Amount, decimals)))));
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
