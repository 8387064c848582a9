using System.ComponentModel;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CryptoPay.Api.Access;
using CryptoPay.Api.Checkout;
using CryptoPay.Api.Docs;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Invoices;
using CryptoPay.Api.Json;
using CryptoPay.Api.Rates;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.PaymentLinks;
using CryptoPay.Grains.Rates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;

namespace CryptoPay.Api.PaymentLinks;

/// <summary>The body of <c>POST /v1/payment-links</c>, for the OpenAPI document.</summary>
public sealed record CreatePaymentLinkRequest(
    [property: Description("Exact decimal string (a JSON number is accepted too): the amount of each invoice the link opens.")] string Amount,
    [property: Description("Fiat or crypto currency, as for invoices.")] string Currency,
    [property: Description("Shown to the customer; at most 100 characters.")] string? Description = null,
    [property: Description("True: every visit opens a new invoice (up to max_uses); false (default): one use.")] bool? Reusable = null,
    [property: Description("For a reusable link, how many invoices it may open, 1 to 1,000,000.")] int? MaxUses = null,
    [property: Description("When the link stops working: RFC 3339 or yyyy-MM-dd, in the future.")] string? ExpiresAt = null);

public sealed record PaymentLinkResponse(
    Guid Id, string Url, string Mode, string Amount, string Currency, string? Description, bool Reusable, int? MaxUses,
    DateTimeOffset? ExpiresAt, bool Active, int Uses, DateTimeOffset CreatedAt);

public sealed record PaymentLinkListResponse(IReadOnlyList<PaymentLinkResponse> Items);

/// <summary>
/// Payment links: a merchant's reusable or single-use URL that opens a fresh invoice on each use. Opening the URL (GET) only
/// shows the link, so a chat app's preview uses nothing; the customer's "Pay" (the page's form, a POST) uses it.
/// </summary>
public static class PaymentLinkEndpoints
{
    /// <summary>The form field of the attempt token: one per rendering of the page, so a form sent twice is one use.</summary>
    private const string AttemptField = "attempt";
    private const int AttemptLength = 32;

    public static IEndpointRouteBuilder MapPaymentLinks(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/payment-links").WithTags("Payment links");
        group.MapPost("", CreateAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true).Accepts<CreatePaymentLinkRequest>("application/json", "*/*")
            .WithSummary("Create a payment link")
            .WithDescription("Answers the link's url: a page showing the amount with a Pay button; each Pay opens a new invoice for the amount and shows its checkout page (a visit alone, such as a chat app's preview, changes nothing).")
            .RequestExample("""{"amount": "49.90", "currency": "EUR", "description": "Yearly plan", "reusable": true, "max_uses": 100}""");
        group.MapGet("", ListAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("List payment links")
            .WithDescription("The key's payment links, active or not.");
        group.MapGet("/{id}", GetAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("Get a payment link")
            .WithDescription("The link with its uses so far.");
        group.MapDelete("/{id}", DeactivateAsync).ForMerchant(ApiKeyScopes.InvoicesWrite)
            .WithSummary("Deactivate a payment link")
            .WithDescription("The link opens no more invoices; those it opened are unchanged.");
        endpoints.MapGet("/pay/l/{id}", PageAsync).Public().ExcludeFromDescription();
        endpoints.MapPost("/pay/l/{id}", UseAsync).PublicForm().ExcludeFromDescription();
        return endpoints;
    }

    private static async Task<Results<Created<PaymentLinkResponse>, ProblemHttpResult>> CreateAsync(HttpContext context, IGrainFactory grains, [FromKeyedServices(GatewayClock.Key)] TimeProvider time, IOptions<ApiOptions> api)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var (link, refused) = await CreateLinkAsync(context, body, grains, time);
        return link is null ? refused! : TypedResults.Created($"/v1/payment-links/{link.Id}", link.ToResponse(InvoiceEndpoints.CheckoutBase(context, api.Value)));
    }

    /// <summary>Creates the caller's link from a body in the <c>/v1</c> shape: the link, or the problem that refused it (profiles compose that body too).</summary>
    internal static async Task<(PaymentLink? Link, ProblemHttpResult? Problem)> CreateLinkAsync(HttpContext context, JsonBody body, IGrainFactory grains, TimeProvider time)
    {
        var caller = context.Caller();
        var amount = body.Decimal("amount", required: true, formatCode: ErrorCodes.InvalidAmountFormat);
        var currencyCode = body.String("currency", 10, required: true);
        var currency = Assets.FindCurrency(currencyCode);
        if (currencyCode is not null && currency is null)
        {
            body.Fail("currency", $"'{currencyCode}' is not a supported currency.", ErrorCodes.UnsupportedCurrency);
        }

        if (amount is { } a && (a <= 0 || a > InvoiceDraft.MaxUsdAmount || (currency is not null && Amounts.Scale(a) > currency.Decimals)))
        {
            body.Fail("amount", $"must be positive, at most {InvoiceDraft.MaxUsdAmount:0}, with at most {currency?.Decimals ?? 8} decimals.", ErrorCodes.InvalidAmountRange);
        }

        var description = body.Text("description", InvoiceDraft.MaxDescription);
        var reusable = body.Boolean("reusable") ?? false;
        var maxUses = (int?)body.Integer("max_uses", 1, 1_000_000);
        if (!reusable && maxUses is > 1)
        {
            body.Fail("max_uses", "a single-use link (reusable false) allows one use; set reusable to true for more.");
        }

        DateTimeOffset? expiresAt = null;
        if (body.String("expires_at", 40) is { } expiresText)
        {
            expiresAt = InvoiceDraft.ParseDate(expiresText);
            if (expiresAt is null)
            {
                body.Fail("expires_at", "must be an RFC 3339 timestamp or yyyy-MM-dd.");
            }
            else if (expiresAt <= time.GetUtcNow())
            {
                body.Fail("expires_at", "must be in the future.");
            }
        }

        if (!body.IsValid)
        {
            return (null, body.Problem());
        }

        var spec = new PaymentLinkSpec(caller.MerchantId, caller.Mode, amount!.Value, currency!.Code, description, reusable, reusable ? maxUses : 1, expiresAt);
        return (await grains.GetGrain<IPaymentLinkGrain>(context.IdempotentId("payment-link") ?? Guid.NewGuid()).Create(spec), null);
    }

    /// <summary>The caller's link, or null: another merchant's or another mode's link does not exist for it.</summary>
    internal static async Task<PaymentLink?> FindAsync(IGrainFactory grains, MerchantCaller caller, string id) =>
        Guid.TryParse(id, out var linkId) && await grains.GetGrain<IPaymentLinkGrain>(linkId).Get() is { } link &&
        link.Spec.MerchantId == caller.MerchantId && link.Spec.Mode == caller.Mode
            ? link
            : null;

    private static async Task<Results<Ok<PaymentLinkResponse>, ProblemHttpResult>> GetAsync(string id, HttpContext context, IGrainFactory grains, IOptions<ApiOptions> api) =>
        await FindAsync(grains, context.Caller(), id) is { } link
            ? TypedResults.Ok(link.ToResponse(InvoiceEndpoints.CheckoutBase(context, api.Value)))
            : ApiProblem.NotFound("payment link");

    private static async Task<Ok<PaymentLinkListResponse>> ListAsync(HttpContext context, IGrainFactory grains, IOptions<ApiOptions> api)
    {
        var caller = context.Caller();
        var ids = await grains.GetGrain<IPaymentLinkIndexGrain>(PaymentLinkIndexGrain.KeyOf(caller.MerchantId, caller.Mode)).List();
        var links = await Task.WhenAll(ids.Select(id => grains.GetGrain<IPaymentLinkGrain>(id).Get()));
        var checkout = InvoiceEndpoints.CheckoutBase(context, api.Value);
        return TypedResults.Ok(new PaymentLinkListResponse([.. links.OfType<PaymentLink>().OrderByDescending(l => l.CreatedAt).Select(l => l.ToResponse(checkout))]));
    }

    private static async Task<Results<Ok<PaymentLinkResponse>, ProblemHttpResult>> DeactivateAsync(string id, HttpContext context, IGrainFactory grains, IOptions<ApiOptions> api)
    {
        if (await FindAsync(grains, context.Caller(), id) is not { } link)
        {
            return ApiProblem.NotFound("payment link");
        }

        var deactivated = await grains.GetGrain<IPaymentLinkGrain>(link.Id).Deactivate();
        return TypedResults.Ok(deactivated!.ToResponse(InvoiceEndpoints.CheckoutBase(context, api.Value)));
    }

    /// <summary>
    /// Shows the link: merchant, amount, description and a "Pay" button whose form carries a fresh attempt token. Changes
    /// nothing: link previews, crawlers and a customer's second look open it too.
    /// </summary>
    private static async Task<IResult> PageAsync(string id, HttpContext context, IGrainFactory grains, [FromKeyedServices(GatewayClock.Key)] TimeProvider time)
    {
        if (!Guid.TryParse(id, out var linkId) || await grains.GetGrain<IPaymentLinkGrain>(linkId).Get() is not { } link)
        {
            return Unknown(context);
        }

        if (link.RefusalAt(time.GetUtcNow()) is { } refusal)
        {
            return Refused(context, refusal);
        }

        var merchant = await grains.GetGrain<IMerchantGrain>(link.Spec.MerchantId).Get();
        if (merchant is null || merchant.Status != MerchantStatus.Active)
        {
            return MerchantGone(context);
        }

        return CheckoutHtml.Page(context, StatusCodes.Status200OK, $"Pay {merchant.Name}", Render(link, merchant.Name));
    }

    /// <summary>
    /// The page's "Pay": one use counted in the link's turn for the form's attempt token, a fresh invoice, then its checkout
    /// page (303). The same token again (a double click, a retried form) reaches the same invoice and counts nothing.
    /// </summary>
    private static async Task<IResult> UseAsync(
        string id, HttpContext context, IGrainFactory grains, [FromKeyedServices(GatewayClock.Key)] TimeProvider time, IOptions<ApiOptions> api)
    {
        if (!Guid.TryParse(id, out var linkId))
        {
            return Unknown(context);
        }

        if (!context.Request.HasFormContentType)
        {
            return CheckoutHtml.Message(context, StatusCodes.Status415UnsupportedMediaType, "Payment link", "Open the payment link and press Pay to continue.");
        }

        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception error) when (error is InvalidDataException or BadHttpRequestException or IOException)
        {
            return IncompleteForm(context, linkId);
        }

        var attempt = form[AttemptField].ToString();
        if (attempt.Length != AttemptLength || !attempt.All(char.IsAsciiHexDigitLower))
        {
            return IncompleteForm(context, linkId);
        }

        var link = grains.GetGrain<IPaymentLinkGrain>(linkId);
        var use = await link.Use(attempt);
        if (!use.Granted)
        {
            return Refused(context, use.Refusal!.Value);
        }

        var invoiceId = use.InvoiceId!.Value;
        if (use.Repeated && await grains.GetGrain<IInvoiceGrain>(invoiceId).Get() is not null)
        {
            return SeeCheckout(context, invoiceId);
        }

        var spec = use.Link!.Spec;
        var merchant = await grains.GetGrain<IMerchantGrain>(spec.MerchantId).Get();
        if (merchant is null || merchant.Status != MerchantStatus.Active)
        {
            await ReleaseAsync(grains, link, use, attempt);
            return MerchantGone(context);
        }

        var decimals = Assets.FindCurrency(spec.Currency)?.Decimals ?? 8;
        var draft = new Dictionary<string, object?>
        {
            ["amount"] = Amounts.Format(spec.Amount, decimals),
            ["currency"] = spec.Currency,
            ["description"] = spec.Description,
        };
        var body = JsonBody.Of(JsonSerializer.SerializeToElement(draft));
        // The invoice id comes with the use, so a form sent again after a crash here opens this invoice, not another.
        var created = await InvoiceEndpoints.CreateForAsync(context, new MerchantCaller(spec.MerchantId, spec.Mode, Guid.Empty, merchant), body, time, api, (invoiceId, null));
        if (created.Result is not Created<InvoiceResponse>)
        {
            await ReleaseAsync(grains, link, use, attempt);
            return CheckoutHtml.Message(context, StatusCodes.Status503ServiceUnavailable, "Payment unavailable", "An invoice could not be opened for this link right now. Please try again in a minute.");
        }

        return SeeCheckout(context, invoiceId);
    }

    /// <summary>
    /// Gives back a use whose invoice was not opened. Only the first sending of an attempt does, and only while its invoice
    /// does not exist: a concurrent resend of the same form may have opened it.
    /// </summary>
    private static async Task ReleaseAsync(IGrainFactory grains, IPaymentLinkGrain link, PaymentLinkUse use, string attempt)
    {
        if (!use.Repeated && await grains.GetGrain<IInvoiceGrain>(use.InvoiceId!.Value).Get() is null)
        {
            await link.ReleaseUse(attempt);
        }
    }

    private static IResult SeeCheckout(HttpContext context, Guid invoiceId)
    {
        CheckoutHtml.ApplySecurityHeaders(context.Response);
        context.Response.Headers.Location = $"/pay/{invoiceId}";
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    private static string Render(PaymentLink link, string merchantName)
    {
        var spec = link.Spec;
        var amount = $"{Amounts.Format(spec.Amount, Assets.FindCurrency(spec.Currency)?.Decimals ?? 8)} {spec.Currency}";
        var html = new StringBuilder("<div id=\"payment-link\">\n");
        if (spec.Mode == Mode.Test)
        {
            html.Append("<p class=\"test-banner\" role=\"note\">TEST MODE: this link opens a test invoice, paid with simulated coins only.</p>\n");
        }

        html.Append("<p class=\"merchant\">").Append(CheckoutHtml.E(merchantName)).Append("</p>\n");
        html.Append("<h1><span class=\"visually-hidden\">Amount: </span><span id=\"link-amount\">").Append(CheckoutHtml.E(amount)).Append("</span></h1>\n");
        if (spec.Description is { } description)
        {
            html.Append("<p class=\"description\">").Append(CheckoutHtml.E(description)).Append("</p>\n");
        }

        // A fresh token per rendering: sending this form twice is one use; another rendering's form is another use.
        html.Append("<form method=\"post\" action=\"/pay/l/").Append(CheckoutHtml.E(link.Id.ToString())).Append("\" class=\"pay-form\">\n")
            .Append("<input type=\"hidden\" name=\"").Append(AttemptField).Append("\" value=\"").Append(RandomNumberGenerator.GetHexString(AttemptLength, lowercase: true)).Append("\">\n")
            .Append("<button type=\"submit\" id=\"pay\" class=\"primary\">Pay</button>\n</form>\n</div>\n");
        return html.ToString();
    }

    private static IResult Refused(HttpContext context, PaymentLinkRefusal refusal) => refusal switch
    {
        PaymentLinkRefusal.Deactivated => Gone(context, "This payment link was deactivated by the merchant."),
        PaymentLinkRefusal.Expired => Gone(context, "This payment link has expired."),
        PaymentLinkRefusal.UsedUp => Gone(context, "This payment link has already been used."),
        _ => Unknown(context),
    };

    private static IResult MerchantGone(HttpContext context) => Gone(context, "This merchant no longer accepts payments here.");

    private static IResult IncompleteForm(HttpContext context, Guid linkId) =>
        CheckoutHtml.Page(context, StatusCodes.Status400BadRequest, "Payment link",
            $"<h1>Payment link</h1>\n<p class=\"message\">This payment form was incomplete. <a href=\"/pay/l/{linkId}\">Open the payment link again</a> and press Pay.</p>\n");

    private static IResult Unknown(HttpContext context) =>
        CheckoutHtml.Message(context, StatusCodes.Status404NotFound, "Payment link not found", "This payment link does not exist. Check the link you were given.");

    private static IResult Gone(HttpContext context, string why) =>
        CheckoutHtml.Message(context, StatusCodes.Status410Gone, "Payment link unavailable", why);

    /// <summary>The page customers open to pay through the link.</summary>
    internal static string UrlOf(PaymentLink link, string checkoutBase) => $"{checkoutBase.TrimEnd('/')}/pay/l/{link.Id}";

    private static PaymentLinkResponse ToResponse(this PaymentLink link, string checkoutBase) => new(
        link.Id,
        UrlOf(link, checkoutBase),
        link.Spec.Mode == Mode.Live ? "live" : "test",
        Amounts.Format(link.Spec.Amount, Assets.FindCurrency(link.Spec.Currency)?.Decimals ?? 8),
        link.Spec.Currency,
        link.Spec.Description,
        link.Spec.Reusable,
        link.UseLimit,
        link.Spec.ExpiresAt,
        link.Active,
        link.Uses,
        link.CreatedAt);
}
