using System.Numerics;
using System.Text;
using CryptoPay.Api.Access;
using CryptoPay.Api.Docs;
using CryptoPay.Api.Invoices;
using CryptoPay.Api.Json;
using CryptoPay.Api.Sandbox;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using Orleans;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using QRCoder;
using static CryptoPay.Api.Checkout.CheckoutHtml;

namespace CryptoPay.Api.Checkout;

/// <summary>
/// The hosted checkout page: server-rendered HTML, a stylesheet and a small script served from here.
/// It shows only what the customer needs to pay: merchant name, amounts, address, QR code, status;
/// never metadata, customer data, order ids or callback URLs.
/// </summary>
public static class CheckoutEndpoints
{
    private static readonly string[] AssetNames = ["checkout.js", "checkout.css"];

    public static IEndpointRouteBuilder MapCheckout(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/pay/assets/{name}", Asset).Public().ExcludeFromDescription();
        endpoints.MapGet("/pay/{id}", PageAsync).Public().ExcludeFromDescription();
        endpoints.MapPost("/pay/{id}/simulate", SimulateAsync).Public().ExcludeFromDescription();
        endpoints.MapPost("/v1/invoices/{id}/payment-method", ChooseMethodAsync).Public().WithTags("Invoices")
            .Accepts<ChoosePaymentMethodRequest>("application/json", "*/*")
            .WithSummary("Choose a payment method")
            .WithDescription("The customer picks one of the invoice's payment methods (the checkout page calls this); answers its address, amount and payment URI.")
            .Problem(StatusCodes.Status409Conflict, "INVALID_STATE_TRANSITION: the invoice no longer takes a choice.");
        return endpoints;
    }

    private static IResult Asset(string name, HttpContext context)
    {
        if (!AssetNames.Contains(name, StringComparer.Ordinal))
        {
            return Message(context, StatusCodes.Status404NotFound, "Not found", "There is no such file.");
        }

        ApplySecurityHeaders(context.Response);
        context.Response.Headers.CacheControl = "public, max-age=300";
        var stream = typeof(CheckoutEndpoints).Assembly.GetManifestResourceStream($"CryptoPay.Api.Checkout.Assets.{name}")!;
        return Results.Stream(stream, name.EndsWith(".js", StringComparison.Ordinal) ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
    }

    private static async Task<InvoiceState?> FindAsync(IGrainFactory grains, string id) =>
        Guid.TryParse(id, out var invoiceId) ? await grains.GetGrain<IInvoiceGrain>(invoiceId).Get() : null;

    private static async Task<IResult> PageAsync(
        string id, HttpContext context, IGrainFactory grains, [FromKeyedServices(GatewayClock.Key)] TimeProvider time, IOptions<ApiOptions> api)
    {
        if (await FindAsync(grains, id) is not { } invoice || invoice.Status == InvoiceStatus.Archived)
        {
            return Message(context, StatusCodes.Status404NotFound, "Invoice not found", "This payment page does not exist. Check the link you were given.");
        }

        var asked = context.Request.Query["method"].ToString();
        if (invoice.PaymentMethods.Find(m => string.Equals(m.Method, asked, StringComparison.OrdinalIgnoreCase)) is { Address: null } pick &&
            invoice.Status == InvoiceStatus.Pending)
        {
            // Choosing on the page is a GET (the page works without scripts); it allocates at most one address per method, once.
            var (updated, _) = await ChooseAsync(context, grains, invoice, pick);
            invoice = updated ?? invoice;
        }

        var merchant = await grains.GetGrain<IMerchantGrain>(invoice.Spec.MerchantId).Get();
        var response = invoice.ToResponse(InvoiceEndpoints.CheckoutBase(context, api.Value), context.PaymentUris());
        var chosen = Chosen(invoice, asked);
        var title = $"Pay {merchant?.Name ?? "merchant"}";
        // A sandbox that pays itself (LayerPay's test flow): the page's script pays once a method is shown; the GET itself never pays.
        var autopay = invoice.Spec.Mode == Mode.Test && context.Request.Query["autopay"] == "1";
        return Page(context, StatusCodes.Status200OK, title, Render(invoice, response, merchant?.Name ?? "", chosen, time.GetUtcNow(), autopay), script: true);
    }

    /// <summary>The method to show: the only one, the one asked for, or the one already paid to.</summary>
    private static int? Chosen(InvoiceState invoice, string asked)
    {
        var methods = invoice.PaymentMethods;
        if (methods.Count == 1)
        {
            return 0;
        }

        var index = methods.FindIndex(m => m.Address is not null && string.Equals(m.Method, asked, StringComparison.OrdinalIgnoreCase));
        if (index < 0)
        {
            index = methods.FindIndex(m => m.Payments.Count > 0);
        }

        return index < 0 ? null : index;
    }

    private static string Render(InvoiceState invoice, InvoiceResponse response, string merchantName, int? chosen, DateTimeOffset now, bool autopay)
    {
        var spec = invoice.Spec;
        var test = spec.Mode == Mode.Test;
        var fiatDecimals = Assets.FindCurrency(spec.Currency)?.Decimals ?? 8;
        var method = chosen is { } c ? invoice.PaymentMethods[c] : null;
        var remainingSeconds = Math.Max(0L, (long)Math.Ceiling((spec.ExpiresAt - now).TotalSeconds));
        var status = InvoiceProjection.Name(invoice.Status);
        var html = new StringBuilder();
        html.Append("<div id=\"checkout\" data-invoice=\"").Append(E(invoice.Id.ToString())).Append("\" data-status=\"").Append(E(status))
            .Append("\" data-expires-in=\"").Append(E(remainingSeconds)).Append('"');
        if (spec.RedirectUrl is { } redirect)
        {
            html.Append(" data-redirect-url=\"").Append(E(redirect)).Append('"');
        }

        if (autopay)
        {
            html.Append(" data-autopay=\"1\"");
        }

        if (method is not null)
        {
            html.Append(" data-method=\"").Append(E(method.Method)).Append("\" data-asset=\"").Append(E(method.Asset))
                .Append("\" data-decimals=\"").Append(E(method.Decimals)).Append("\" data-amount-units=\"").Append(E(method.AmountUnits.ToString(System.Globalization.CultureInfo.InvariantCulture)))
                .Append("\" data-required=\"").Append(E(method.RequiredConfirmations)).Append('"');
        }

        html.Append(">\n");
        if (test)
        {
            html.Append("<p class=\"test-banner\" role=\"note\">TEST MODE: this invoice is paid with simulated coins only.</p>\n");
        }

        html.Append("<p class=\"merchant\">").Append(E(merchantName)).Append("</p>\n");
        html.Append("<h1><span class=\"visually-hidden\">Amount due: </span><span id=\"fiat-amount\">")
            .Append(E(Amounts.Format(spec.Amount, fiatDecimals))).Append(' ').Append(E(spec.Currency)).Append("</span></h1>\n");
        if (spec.Description is { } description)
        {
            html.Append("<p class=\"description\">").Append(E(description)).Append("</p>\n");
        }

        html.Append("<p id=\"status\" class=\"status status-").Append(E(status)).Append("\" role=\"status\" aria-live=\"polite\">")
            .Append(E(StatusText(invoice, method))).Append("</p>\n");
        html.Append("<p class=\"countdown\">Time left: <time id=\"countdown\" aria-live=\"off\">").Append(E(Countdown(remainingSeconds))).Append("</time></p>\n");

        if (invoice.PaymentMethods.Count > 1)
        {
            html.Append("<form class=\"methods\" method=\"get\" action=\"/pay/").Append(E(invoice.Id.ToString())).Append("\">\n<fieldset>\n<legend>Choose how to pay</legend>\n");
            if (autopay)
            {
                html.Append("<input type=\"hidden\" name=\"autopay\" value=\"1\">\n");
            }

            foreach (var m in invoice.PaymentMethods)
            {
                var selected = ReferenceEquals(m, method);
                html.Append("<button type=\"submit\" name=\"method\" value=\"").Append(E(m.Method)).Append('"')
                    .Append(selected ? " aria-pressed=\"true\" class=\"method selected\"" : " aria-pressed=\"false\" class=\"method\"").Append('>')
                    .Append(E(m.Asset)).Append(" on ").Append(E(m.Network)).Append(" · ").Append(E(CheckoutAmounts.Display(m.Amount, m.Decimals))).Append("</button>\n");
            }

            html.Append("</fieldset>\n</form>\n");
        }

        if (method is not null && chosen is { } index)
        {
            var uri = response.PaymentMethods[index].PaymentUri ?? "";
            var exact = Amounts.Format(method.Amount, method.Decimals);
            var shown = CheckoutAmounts.Display(method.Amount, method.Decimals);
            html.Append("<section class=\"pay\" aria-labelledby=\"pay-heading\">\n<h2 id=\"pay-heading\">Send exactly</h2>\n");
            html.Append("<p class=\"row\"><span id=\"crypto-amount\">").Append(E(shown)).Append("</span> <span class=\"asset\">").Append(E(method.Asset))
                .Append("</span> <button type=\"button\" class=\"copy\" data-copy=\"").Append(E(exact)).Append("\" aria-label=\"Copy amount\">Copy</button></p>\n");
            if (shown != exact)
            {
                html.Append("<p class=\"exact\">Exact amount (copied and in the wallet link): <span id=\"exact-amount\">").Append(E(exact)).Append("</span></p>\n");
            }

            html.Append("<p class=\"network\">on the ").Append(E(method.Network)).Append(" network</p>\n");
            html.Append("<h2 id=\"address-heading\">To this address</h2>\n<p class=\"row\"><code id=\"address\">").Append(E(method.Address))
                .Append("</code> <button type=\"button\" class=\"copy\" data-copy=\"").Append(E(method.Address)).Append("\" aria-label=\"Copy address\">Copy</button></p>\n");
            html.Append("<div id=\"qr\" class=\"qr\" role=\"img\" aria-label=\"QR code of the payment request\" data-uri=\"").Append(E(uri)).Append("\">")
                .Append(QrSvg(uri)).Append("</div>\n");
            html.Append("<p class=\"uri\"><a id=\"payment-uri\" href=\"").Append(E(uri)).Append("\">Open in wallet</a></p>\n");
            if (test)
            {
                html.Append("<p><button type=\"button\" id=\"simulate\" class=\"simulate\">Simulate payment</button></p>\n");
            }

            html.Append("</section>\n");
        }

        html.Append("<p id=\"copied\" class=\"visually-hidden\" aria-live=\"polite\"></p>\n</div>\n");
        return html.ToString();
    }

    private static string StatusText(InvoiceState invoice, InvoicePaymentMethod? method)
    {
        var remaining = method is null ? BigInteger.Zero : method.AmountUnits - method.PaidUnits;
        var remainder = method is null ? "" : $"{CheckoutAmounts.Display(Amounts.FromUnits(remaining, method.Decimals), method.Decimals)} {method.Asset}";
        return invoice.Status switch
        {
            InvoiceStatus.Pending when method is not null && method.PaidUnits > 0 => $"Under-paid: send the remaining {remainder}.",
            InvoiceStatus.Pending => method is null ? "Choose a payment method." : "Waiting for payment.",
            InvoiceStatus.Confirming => $"Payment received: {method?.ReceivedConfirmations ?? 0} of {method?.RequiredConfirmations ?? 0} confirmations.",
            InvoiceStatus.Confirmed => "Paid. Thank you!",
            InvoiceStatus.PaidPartial => $"Under-paid: the invoice expired; the remaining {remainder} was not received.",
            InvoiceStatus.Expired => "Expired: this invoice can no longer be paid.",
            InvoiceStatus.Cancelled => "Cancelled by the merchant.",
            _ => "",
        };
    }

    private static string Countdown(long seconds) => $"{seconds / 60:00}:{seconds % 60:00}";

    private static string QrSvg(string uri)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.M);
        return new SvgQRCode(data).GetGraphic(6, "#000000", "#ffffff", drawQuietZones: true, sizingMode: SvgQRCode.SizingMode.ViewBoxAttribute);
    }

    private static async Task<IResult> SimulateAsync(string id, HttpContext context, IGrainFactory grains)
    {
        // Only test invoices can be paid from the page; a live invoice does not exist for this endpoint.
        if (await FindAsync(grains, id) is not { } invoice || invoice.Spec.Mode != Mode.Test)
        {
            return Errors.ApiProblem.NotFound("test invoice");
        }

        var (body, problem) = await JsonBody.ReadAsync(context.Request, allowEmpty: true);
        if (body is null)
        {
            return problem!;
        }

        var methodId = body.String("method", 40);
        var method = methodId is null
            ? invoice.PaymentMethods.Count == 1 ? invoice.PaymentMethods[0] : null
            : invoice.PaymentMethods.Find(m => string.Equals(m.Method, methodId, StringComparison.OrdinalIgnoreCase));
        if (method?.Address is null)
        {
            body.Fail("method", "choose one of the invoice's payment methods.");
            return body.Problem();
        }

        var units = method.AmountUnits - method.PaidUnits;
        var (_, updated) = await SandboxEndpoints.SimulateAsync(grains, invoice.Id, method, units > 0 ? units : method.AmountUnits);
        return TypedResults.Ok(updated.ToEvent());
    }

    private static async Task<IResult> ChooseMethodAsync(string id, HttpContext context, IGrainFactory grains, IOptions<ApiOptions> api)
    {
        if (await FindAsync(grains, id) is not { } invoice || invoice.Status == InvoiceStatus.Archived)
        {
            return Errors.ApiProblem.NotFound("invoice");
        }

        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var methodId = body.String("method", 40, required: true);
        var index = invoice.PaymentMethods.FindIndex(m => string.Equals(m.Method, methodId, StringComparison.OrdinalIgnoreCase));
        if (methodId is not null && index < 0)
        {
            body.Fail("method", $"the invoice offers no '{methodId}' method.", Errors.ErrorCodes.UnsupportedNetwork);
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        var (updated, refused) = await ChooseAsync(context, grains, invoice, invoice.PaymentMethods[index]);
        if (updated is null)
        {
            return refused!;
        }

        var method = updated.ToResponse(InvoiceEndpoints.CheckoutBase(context, api.Value), context.PaymentUris()).PaymentMethods[index];
        return TypedResults.Ok(new ChosenPaymentMethodResponse(
            updated.Id, method.Method, method.Network, method.Asset, method.Address, method.Amount, method.AmountUnits, method.Confirmations.Required, method.PaymentUri));
    }

    /// <summary>
    /// Gives the chosen method its deposit address: a test invoice has one already; a live one gets the network
    /// pool's next address, recorded as a deposit address before the invoice takes it. Idempotent: a method with an
    /// address keeps it. Two concurrent first choices may both allocate, but the invoice keeps the first address it is
    /// given (<see cref="IInvoiceGrain.AssignAddress"/>) and both answer with that one; the other index is skipped, never reused.
    /// </summary>
    private static async Task<(InvoiceState? Invoice, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? Problem)> ChooseAsync(
        HttpContext context, IGrainFactory grains, InvoiceState invoice, InvoicePaymentMethod method)
    {
        if (method.Address is not null)
        {
            return (invoice, null);
        }

        if (invoice.Status != InvoiceStatus.Pending)
        {
            return (null, Errors.ApiProblem.Create(StatusCodes.Status409Conflict, Errors.ErrorCodes.InvalidStateTransition,
                $"The invoice is {InvoiceProjection.Name(invoice.Status)}; a payment method can be chosen only while it is pending."));
        }

        var info = Assets.FindMethod(method.Method);
        if (info is null || !context.RequestServices.GetRequiredService<LiveNetworks>().Offers(info, invoice.Spec.Mode))
        {
            return (null, Errors.ApiProblem.Create(StatusCodes.Status400BadRequest, Errors.ErrorCodes.UnsupportedNetwork,
                $"'{method.Method}' is not configured for payments on this gateway any more; choose another method."));
        }

        var deposit = await context.RequestServices.GetRequiredService<DepositAllocation>()
            .AllocateAsync(invoice.Id, invoice.Spec.MerchantId, invoice.Spec.Mode, info, method.RequiredConfirmations);
        return (await grains.GetGrain<IInvoiceGrain>(invoice.Id).AssignAddress(method.Method, deposit.Address), null);
    }
}

public sealed record ChoosePaymentMethodRequest(string Method);

public sealed record ChosenPaymentMethodResponse(
    Guid Id, string Method, string Network, string Asset, string? Address, string Amount, string AmountUnits, int RequiredConfirmations, string? PaymentUri);
