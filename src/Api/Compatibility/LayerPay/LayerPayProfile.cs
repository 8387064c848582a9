using CryptoPay.Api.Access;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Invoices;
using CryptoPay.Api.Json;
using CryptoPay.Api.Withdrawals;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;

namespace CryptoPay.Api.Compatibility.LayerPay;

public sealed record LayerPayCreated(Guid Id);

public sealed record LayerPayStatus(Guid Id, string Status, long ExpiresAtTs);

public sealed record LayerPayError(string Error, string Code);

/// <summary>
/// layerpay.txt under <c>/compat/layerpay</c>: <c>x-api-key: BUSINESSID.SECRET</c>, invoices in USD or EUR, a status poll with
/// Pending/Confirmed/Expired, and the payment page, which in sandbox confirms as soon as the customer picks a network.
/// </summary>
public static class LayerPayProfile
{
    public static CompatibilityProfile Profile { get; } = new("layerpay", "/compat/layerpay", "LayerPay compatibility",
        "layerpay.txt served as written: base URL /compat/layerpay, `x-api-key: BUSINESSID.SECRET` (key format layerpay).", "{error, code}",
        error => new LayerPayError(error.Message, error.Code));

    private static readonly string[] Currencies = ["USD", "EUR"];

    public static IEndpointRouteBuilder MapLayerPay(this IEndpointRouteBuilder endpoints)
    {
        var group = Profile.MapGroup(endpoints);
        group.MapPost("/invoice/create", CreateAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true)
            .WithSummary("Create Invoice (LayerPay)")
            .WithDescription("{amount: \"100.00\", currency: \"USD\"|\"EUR\", description?} → {id}. The customer pays at GET /payment?id={id}.");
        group.MapGet("/invoice/{id}/status", StatusAsync).Public()
            .WithSummary("Check Status (LayerPay)")
            .WithDescription("{id, status: Pending|Confirmed|Expired, expires_at_ts}.");
        group.MapGet("/payment", Payment).Public()
            .WithSummary("Payment page (LayerPay)")
            .WithDescription("Redirects to the hosted checkout page. For a sandbox invoice the page pays it as soon as a network is picked, and it confirms with the sandbox's next block.");
        group.MapPost("/withdrawal/create", WithdrawalEndpoints.CreateAsync).ForMerchant(ApiKeyScopes.WithdrawalsWrite, idempotent: true)
            .WithSummary("Withdraw (LayerPay)")
            .WithDescription("The document names no withdrawal path, only that sandbox withdrawals answer 400: this takes the body of POST /v1/withdrawals, and answers 400 to a sandbox key.");
        return endpoints;
    }

    private static async Task<IResult> CreateAsync(HttpRequest request)
    {
        var context = request.HttpContext;
        var (body, problem) = await JsonBody.ReadAsync(request);
        if (body is null)
        {
            return problem!;
        }

        // The document's fields are a subset of ours under the same names; only the currency is narrower.
        var amount = ProfileRequests.Amount(body, "amount", required: true);
        var currency = body.String("currency", 10, required: true);
        var description = body.Text("description", InvoiceDraft.MaxDescription);
        if (currency is not null && !Currencies.Contains(currency, StringComparer.Ordinal))
        {
            body.Fail("currency", "must be \"USD\" or \"EUR\".", ErrorCodes.UnsupportedCurrency);
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        var (invoice, refused) = await ProfileRequests.CreateInvoiceAsync(context, new()
        {
            ["amount"] = amount!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["currency"] = currency,
            ["description"] = description,
        });
        return invoice is null ? refused! : TypedResults.Ok(new LayerPayCreated(invoice.Id));
    }

    private static async Task<IResult> StatusAsync(string id, IGrainFactory grains, [FromKeyedServices(GatewayClock.Key)] TimeProvider time)
    {
        if (!Guid.TryParse(id, out var invoiceId) || await grains.GetGrain<IInvoiceGrain>(invoiceId).GetStatus() is not { } stored)
        {
            return ApiProblem.NotFound("invoice");
        }

        var invoice = stored.AsOf(time.GetUtcNow());
        return TypedResults.Ok(new LayerPayStatus(invoice.Id, StatusName(invoice.Status), invoice.ExpiresAt.ToUnixTimeSeconds()));
    }

    /// <summary>
    /// The document's three statuses. Pending: nothing final yet (a payment seen but not confirmed is still pending);
    /// Confirmed: paid; Expired: it can no longer be paid (expired, under-paid at expiry, or cancelled).
    /// </summary>
    public static string StatusName(InvoiceStatus status) => status switch
    {
        InvoiceStatus.Pending or InvoiceStatus.Confirming => "Pending",
        InvoiceStatus.Confirmed => "Confirmed",
        _ => "Expired",
    };

    /// <summary>The payment page: our checkout, told to pay a sandbox invoice once the customer picks a network (a POST the page's script makes, never this GET).</summary>
    private static IResult Payment(HttpContext context, IOptions<ApiOptions> api)
    {
        var id = context.Request.Query["id"].ToString();
        if (!Guid.TryParse(id, out var invoiceId))
        {
            return ApiProblem.Invalid("id", "must be an invoice id.");
        }

        return TypedResults.Redirect($"{InvoiceMapping.CheckoutUrl(InvoiceEndpoints.CheckoutBase(context, api.Value), invoiceId)}?autopay=1");
    }
}
