using System.Globalization;
using System.Text.Json;
using CryptoPay.Api.Access;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Invoices;
using CryptoPay.Api.Json;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace CryptoPay.Api.Compatibility.Pepay;

public sealed record PepayError(string Error, string Code);

public sealed record PepayPaymentDetails(string Network, string TransactionHash, decimal AmountPaid);

public sealed record PepayInvoice(
    string Id, decimal AmountUsd, string Status, string PaymentUrl, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, DateTimeOffset? PaidAt,
    string? Description, string? CustomerId, JsonElement? Metadata, PepayPaymentDetails? PaymentDetails);

public sealed record PepayInvoiceList(IReadOnlyList<PepayInvoice> Items, long Total, int Page, bool HasMore);

public sealed record PepayCounts(long Total, long Paid, long Unpaid, long Expired);

public sealed record PepayTotals(decimal TotalAmountUsd, decimal TotalPaidUsd, decimal TotalUnpaidUsd, decimal TotalExpiredUsd, PepayCounts InvoiceCount);

/// <summary>
/// pepay.txt under <c>/compat/pepay</c>: <c>x-api-key</c>, invoices priced by <c>amount_usd</c> (0.01–1,000,000) that expire
/// after <c>expires_in</c> milliseconds (12 h by default), a required Idempotency-Key on creation, statuses
/// unpaid/paid/expired, totals, <c>{error, code}</c> errors, and signed webhooks (<see cref="PepayWebhookFormat"/>).
/// </summary>
public static class PepayProfile
{
    public const string IdPrefix = "inv_";
    public const int PageSize = 20;
    private const decimal MinAmount = 0.01m;
    private const decimal MaxAmount = 1_000_000m;
    private static readonly TimeSpan DefaultExpiry = TimeSpan.FromHours(12);

    /// <summary>The document's codes where ours differ: an amount below a method's minimum is outside the allowed range; what it has no code for is a creation failure.</summary>
    private static readonly Dictionary<string, string> Codes = new(StringComparer.Ordinal)
    {
        [ErrorCodes.AmountBelowMinimum] = ErrorCodes.InvalidAmountRange,
        [ErrorCodes.UnsupportedNetwork] = "INVOICE_CREATE_FAILED",
        [ErrorCodes.RatesUnavailable] = "INVOICE_CREATE_FAILED",
    };

    public static CompatibilityProfile Profile { get; } = new("pepay", "/compat/pepay", "Pepay compatibility",
        "pepay.txt served as written: base URL /compat/pepay, `x-api-key` (key format pepay); webhooks with an endpoint of format pepay.", "{error, code}",
        error => new PepayError(error.Message, Codes.GetValueOrDefault(error.Code, error.Code)));

    private static readonly Dictionary<string, string> FieldNames = new(StringComparer.Ordinal) { ["amount"] = "amount_usd", ["expires_in"] = "expires_in" };

    public static IEndpointRouteBuilder MapPepay(this IEndpointRouteBuilder endpoints)
    {
        var group = Profile.MapGroup(endpoints).MapGroup("/api/v1/invoices");
        group.MapPost("", CreateAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true)
            .WithSummary("Create Invoice (Pepay)")
            .WithDescription("Needs an Idempotency-Key (IDEMPOTENCY_KEY_MISSING otherwise). amount_usd 0.01–1,000,000; expires_in in milliseconds, default 12 h.");
        group.MapGet("", ListAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("List Invoices (Pepay)")
            .WithDescription($"page (default 1, {PageSize} per page), status paid|unpaid|expired|all, customer_id → {{items, total, page, has_more}}.");
        group.MapGet("/totals", TotalsAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("Get Invoice Totals (Pepay)")
            .WithDescription("Amounts invoiced and paid per status, in the merchant's reporting currency (USD unless set otherwise).");
        group.MapGet("/{id}", GetAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("Get Invoice (Pepay)")
            .WithDescription("The document's path names {customer_id}; it is the invoice's id (inv_…), as its response shows.");
        return endpoints;
    }

    private static async Task<IResult> CreateAsync(HttpRequest request)
    {
        var context = request.HttpContext;
        if (context.IdempotentRequest() is null)
        {
            return ApiProblem.Create(StatusCodes.Status400BadRequest, "IDEMPOTENCY_KEY_MISSING", "Send an Idempotency-Key header with every invoice creation.");
        }

        var (body, problem) = await JsonBody.ReadAsync(request);
        if (body is null)
        {
            return problem!;
        }

        var amount = ProfileRequests.Amount(body, "amount_usd", required: true);
        if (amount is < MinAmount or > MaxAmount)
        {
            body.Fail("amount_usd", $"must be between {MinAmount} and {MaxAmount:0}.", ErrorCodes.InvalidAmountRange);
        }

        var expiresInMs = body.Integer("expires_in", 1, long.MaxValue);
        if (!body.IsValid)
        {
            return body.Problem();
        }

        // Milliseconds, rounded up to the whole seconds an invoice keeps: it never expires before the time asked for.
        var expiresIn = expiresInMs is { } ms ? (ms + 999) / 1000 : (long)DefaultExpiry.TotalSeconds;
        var (invoice, refused) = await ProfileRequests.CreateInvoiceAsync(context, new()
        {
            ["amount"] = amount!.Value.ToString(CultureInfo.InvariantCulture),
            ["currency"] = "USD",
            ["description"] = body.Raw("description"),
            ["customer_id"] = body.Raw("customer_id"),
            ["metadata"] = body.Raw("metadata"),
            ["expires_in"] = expiresIn,
        }, FieldNames);
        return invoice is null ? refused! : TypedResults.Ok(ToPepay(invoice, context));
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, IGrainFactory grains) =>
        ProfileIds.Parse(IdPrefix, id) is { } invoiceId && await InvoiceEndpoints.FindAsync(grains, context.Caller(), invoiceId.ToString()) is { } invoice
            ? TypedResults.Ok(ToPepay(invoice, context))
            : ApiProblem.NotFound("invoice");

    private static async Task<IResult> ListAsync(HttpContext context, IInvoiceQuery query)
    {
        var caller = context.Caller();
        var q = context.Request.Query;
        var errors = new Dictionary<string, string[]>();
        var page = Routing.QueryNumbers.Read(q, "page", 1, Routing.QueryNumbers.MaxPage, errors);
        var statusText = q["status"].ToString();
        IReadOnlyList<InvoiceStatus>? statuses = statusText switch
        {
            "" or "all" => null,
            "paid" or "unpaid" or "expired" => [.. Enum.GetValues<InvoiceStatus>().Where(s => StatusName(s) == statusText)],
            _ => [],
        };
        if (statuses is [])
        {
            errors["status"] = ["must be paid, unpaid, expired or all."];
        }

        if (errors.Count > 0)
        {
            return ApiProblem.Validation(ErrorCodes.ValidationFailed, errors);
        }

        var customer = q["customer_id"].ToString();
        var result = await query.ListAsync(new InvoiceFilter
        {
            MerchantId = caller.MerchantId,
            Mode = caller.Mode,
            Statuses = statuses,
            CustomerId = customer.Length == 0 ? null : customer,
            Page = page,
            PageSize = PageSize,
        }, context.RequestAborted);
        return TypedResults.Ok(new PepayInvoiceList([.. result.Items.Select(i => ToPepay(i, context))], result.Total, page, (long)page * PageSize < result.Total));
    }

    private static async Task<IResult> TotalsAsync(HttpContext context, IInvoiceQuery query)
    {
        var caller = context.Caller();
        var totals = await query.TotalsAsync(caller.MerchantId, caller.Mode, caller.Merchant.ReportingCurrency, context.RequestAborted);
        decimal Amount(string status) => totals.ByStatus.Where(t => StatusName(t.Status) == status).Sum(t => t.Amount);
        long Count(string status) => totals.ByStatus.Where(t => StatusName(t.Status) == status).Sum(t => t.Count);
        return TypedResults.Ok(new PepayTotals(
            totals.ByStatus.Sum(t => t.Amount), totals.ByStatus.Sum(t => t.PaidAmount), Amount("unpaid"), Amount("expired"),
            new PepayCounts(totals.ByStatus.Sum(t => t.Count), Count("paid"), Count("unpaid"), Count("expired"))));
    }

    /// <summary>
    /// unpaid: nothing final yet (a payment seen but not confirmed is still unpaid); paid: confirmed; expired: it can no
    /// longer be paid (expired, under-paid at expiry, cancelled). Archived imports count as paid: they are settled history.
    /// </summary>
    public static string StatusName(InvoiceStatus status) => status switch
    {
        InvoiceStatus.Pending or InvoiceStatus.Confirming => "unpaid",
        InvoiceStatus.Confirmed or InvoiceStatus.Archived => "paid",
        _ => "expired",
    };

    private static PepayInvoice ToPepay(InvoiceState invoice, HttpContext context)
    {
        var spec = invoice.Spec;
        return new PepayInvoice(
            ProfileIds.Format(IdPrefix, invoice.Id), spec.Amount, StatusName(invoice.Status), InvoiceMapping.CheckoutUrl(InvoiceEndpoints.CheckoutBase(context), invoice.Id),
            spec.CreatedAt, spec.ExpiresAt, invoice.ConfirmedAt, spec.Description, spec.CustomerId, InvoiceMapping.Metadata(spec.MetadataJson), PaymentDetails(invoice));
    }

    /// <summary>The latest payment: its network, transaction and what the invoice has been paid in all, in USD.</summary>
    public static PepayPaymentDetails? PaymentDetails(InvoiceState invoice) =>
        invoice.PaymentMethods.SelectMany(m => m.Payments.Select(p => (Method: m, Payment: p))).OrderByDescending(x => x.Payment.DetectedAt).FirstOrDefault() is { Method: { } method } latest
            ? new PepayPaymentDetails(method.Network, latest.Payment.Txid, decimal.Round(invoice.PaidAmountInCurrency, 2, MidpointRounding.ToZero))
            : null;
}
