using System.Globalization;
using System.Text.Json;
using CryptoPay.Api.Access;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Invoices;
using CryptoPay.Api.Json;
using CryptoPay.Api.Merchants;
using CryptoPay.Api.Rates;
using CryptoPay.Api.Webhooks;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Rates;
using CryptoPay.Grains.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;

namespace CryptoPay.Api.Compatibility.InvoiceApi;

/// <summary>
/// crypto-invoice-api.txt under <c>/compat/invoice-api</c>: invoices priced in EUR (<c>fiat_amount</c>) or in the coin
/// (<c>crypto_amount</c>), paid in <c>currency</c>; the document's statuses; archived imports; status marking; simulated
/// webhooks; and projects, which are 64-hex API keys with a name and an IP allow-list. The document names no paths; the
/// ones chosen, and every other reading, are in docs/COMPATIBILITY.md.
/// </summary>
public static class InvoiceApiProfile
{
    public static CompatibilityProfile Profile { get; } = new("invoice-api", "/compat/invoice-api", "Cryptocurrency Invoice API compatibility",
        "crypto-invoice-api.txt served with the obvious REST paths (docs/COMPATIBILITY.md): base URL /compat/invoice-api, 64-hex project keys in `X-API-Key`, " +
        "projects created with the account key in `Api-Key`.", "{error, code}",
        error => new InvoiceApiError(error.Message, error.Code));

    /// <summary>The one fiat currency the document allows (<c>fiat_currency</c>, Value: "EUR").</summary>
    public const string FiatCurrency = "EUR";

    /// <summary>Where an archived import keeps what our invoice has no field for: the coin of a fiat-priced import and its crypto amount.</summary>
    public const string MetadataKey = "invoice_api";

    private const int MaxProjectName = 100;
    private const int MaxProjectDescription = 1024;

    /// <summary>The document's statuses, ours mapped onto them one to one.</summary>
    private static readonly Dictionary<InvoiceStatus, string> StatusNames = new()
    {
        [InvoiceStatus.Pending] = "new",
        [InvoiceStatus.Confirming] = "pending",
        [InvoiceStatus.Confirmed] = "completed",
        [InvoiceStatus.Expired] = "expired",
        [InvoiceStatus.Cancelled] = "cancelled",
        [InvoiceStatus.PaidPartial] = "paid_partial",
        [InvoiceStatus.Archived] = "archived",
    };

    /// <summary>sort_by: both amounts sort by the invoice's value (in the reporting currency), the one amount every invoice has.</summary>
    private static readonly Dictionary<string, InvoiceSort> SortNames = new(StringComparer.Ordinal)
    {
        ["created_at"] = InvoiceSort.CreatedAt,
        ["updated_at"] = InvoiceSort.UpdatedAt,
        ["fiat_amount"] = InvoiceSort.Amount,
        ["crypto_amount"] = InvoiceSort.Amount,
    };

    public static IEndpointRouteBuilder MapInvoiceApi(this IEndpointRouteBuilder endpoints)
    {
        var group = Profile.MapGroup(endpoints);
        group.MapPost("/invoices", CreateInvoiceAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true)
            .WithSummary("Create a new invoice (Invoice API)")
            .WithDescription("{order_id, fiat_amount + fiat_currency \"EUR\" | crypto_amount, currency (BTC, LTC, ETH, BNB, USDT, USDC or a method such as usdt_tron), " +
                "allowed_error_percent?, order_name?, expire_min?, callback_url?} → 201 with the invoice.");
        group.MapGet("/invoices", ListAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("List invoices (Invoice API)")
            .WithDescription("Filters status, currency, created_after, created_before; page, page_size (1..100, default 20); " +
                "sort_by created_at|updated_at|fiat_amount|crypto_amount; sort_order asc|desc → {items, pagination}.");
        group.MapPost("/invoices/archived", ImportInvoiceAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true)
            .WithSummary("Create an archived invoice (Invoice API)")
            .WithDescription("Imports a historical invoice (created_at in the past, in any of the document's five formats); it is never watched for payments.");
        group.MapGet("/invoices/{invoice_id}", GetAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("Get invoice by ID (Invoice API)");
        foreach (var method in new[] { HttpMethods.Patch, HttpMethods.Put })
        {
            group.MapMethods("/invoices/{invoice_id}/status", [method], UpdateStatusAsync).ForMerchant(ApiKeyScopes.InvoicesWrite)
                .WithSummary($"Update invoice status (Invoice API, {method})")
                .WithDescription("{status, comment?}: completed or cancelled mark the invoice by hand with the comment; the other statuses follow from payments and time (409 INVALID_STATE_TRANSITION).");
        }

        group.MapGet("/currencies", Currencies).Public()
            .WithSummary("List supported currencies (Invoice API)");
        group.MapGet("/rates", RatesAsync).Public()
            .WithSummary("Get exchange rates (Invoice API)")
            .WithDescription("The price of one unit of each currency in EUR (or ?base=).");
        group.MapPost("/webhooks/simulate", SimulateAsync).ForMerchant(ApiKeyScopes.WebhooksWrite)
            .WithSummary("Simulate webhook (Invoice API)")
            .WithDescription("{invoice_id, status}: sends a test event showing the invoice in that status to its callback_url and the merchant's webhook endpoints.");
        group.MapPost("/projects", CreateProjectAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true)
            .WithSummary("Create new project via API (Invoice API)")
            .WithDescription("Account key in Api-Key. {name, description?, api_allowed_ips?} → 201 {project_id, api_key}: a new 64-hex key of the same merchant and mode.");
        return endpoints;
    }

    /// <summary>The document's name of one of our statuses.</summary>
    public static string StatusName(InvoiceStatus status) => StatusNames[status];

    /// <summary>Our status of one of the document's status names, or null.</summary>
    public static InvoiceStatus? StatusOf(string name) =>
        StatusNames.Where(s => s.Value == name).Select(s => (InvoiceStatus?)s.Key).FirstOrDefault();

    private static Task<IResult> CreateInvoiceAsync(HttpRequest request) => CreateAsync(request.HttpContext, archived: false);

    private static Task<IResult> ImportInvoiceAsync(HttpRequest request) => CreateAsync(request.HttpContext, archived: true);

    private static async Task<IResult> CreateAsync(HttpContext context, bool archived)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var (v1Body, fieldNames) = ToV1(body, context, archived);
        if (!body.IsValid)
        {
            return body.Problem();
        }

        // Its callback_url hears of it in this document's shape (InvoiceApiWebhookFormat).
        var (invoice, refused) = await ProfileRequests.CreateInvoiceAsync(context, v1Body, fieldNames, archived, InvoiceApiWebhookFormat.FormatName);
        return invoice is null ? refused! : Answer(context, invoice, StatusCodes.Status201Created);
    }

    /// <summary>
    /// The document's invoice body as ours: the amount priced in EUR or in the coin, the coin as the payment methods that
    /// pay in it (or, for an import, kept in the metadata), order_name as the description. Field names in our
    /// problems are put back in the document's words.
    /// </summary>
    private static (Dictionary<string, object?> Body, Dictionary<string, string> FieldNames) ToV1(JsonBody body, HttpContext context, bool archived)
    {
        var orderId = body.String("order_id", 128, required: true);
        var fiatAmount = ProfileRequests.Amount(body, "fiat_amount");
        var fiatCurrency = body.String("fiat_currency", 10);
        var cryptoAmount = ProfileRequests.Amount(body, "crypto_amount");
        var currency = body.String("currency", 40, required: true);
        var allowedError = body.Integer("allowed_error_percent", 0, 100);

        // `currency` names the coin (BTC) or, to pick the network too, one of our payment methods (usdt_tron).
        var method = Assets.FindMethod(currency);
        var coin = method is not null ? Assets.FindCurrency(method.Asset) : Assets.FindCurrency(currency) is { IsFiat: false } crypto ? crypto : null;
        if (currency is not null && coin is null)
        {
            body.Fail("currency", $"'{currency}' is not a cryptocurrency this gateway takes; see GET {Profile.Prefix}/currencies.", ErrorCodes.UnsupportedCurrency);
        }

        if (fiatCurrency is not null && fiatCurrency != FiatCurrency)
        {
            body.Fail("fiat_currency", $"must be \"{FiatCurrency}\".", ErrorCodes.UnsupportedCurrency);
        }

        // A new invoice is priced one way, the other amount follows from the locked rate; a historical record may hold both.
        if (fiatAmount is null && cryptoAmount is null)
        {
            body.Fail("fiat_amount", "fiat_amount or crypto_amount is required.");
        }
        else if (fiatAmount is not null && cryptoAmount is not null && !archived)
        {
            body.Fail("crypto_amount", "give fiat_amount or crypto_amount, not both: the other follows from the exchange rate.");
        }

        var pricedInFiat = fiatAmount is not null;
        var v1 = new Dictionary<string, object?>
        {
            ["order_id"] = orderId,
            ["amount"] = (fiatAmount ?? cryptoAmount)?.ToString(CultureInfo.InvariantCulture),
            ["currency"] = pricedInFiat ? FiatCurrency : coin?.Code,
            ["description"] = body.Raw("order_name"),
            ["allowed_error_percent"] = allowedError,
            ["callback_url"] = body.Raw("callback_url"),
        };
        if (archived)
        {
            v1["created_at"] = body.Raw("created_at");
            if (coin is not null && (pricedInFiat || method is not null))
            {
                v1["metadata"] = new Dictionary<string, object?>
                {
                    [MetadataKey] = new Dictionary<string, object?>
                    {
                        ["currency"] = currency,
                        ["crypto_amount"] = pricedInFiat ? cryptoAmount?.ToString(CultureInfo.InvariantCulture) : null,
                    }
                };
            }
        }
        else
        {
            v1["expire_min"] = body.Raw("expire_min");
            v1["payment_methods"] = method is not null ? new[] { method.Id } : pricedInFiat && coin is not null ? MethodsPaying(context, coin.Code) : null;
        }

        var fieldNames = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["amount"] = pricedInFiat ? "fiat_amount" : "crypto_amount",
            ["currency"] = pricedInFiat ? "fiat_currency" : "currency",
            ["payment_methods"] = "currency",
            ["network"] = "currency",
            ["description"] = "order_name",
            ["expires_in"] = "expire_min",
        };
        return (v1, fieldNames);
    }

    /// <summary>
    /// The methods an EUR invoice offers for a coin: those the merchant can be paid in now; when there is none, every
    /// method of the coin in the key's mode, so that the creation path refuses them with its reason.
    /// </summary>
    private static string[] MethodsPaying(HttpContext context, string coin)
    {
        var caller = context.Caller();
        var offered = context.RequestServices.GetRequiredService<InvoiceCreation>().MethodsPaying(coin, new InvoiceRequester(caller.MerchantId, caller.Mode, caller.Merchant));
        var methods = offered.Count > 0 ? offered : Assets.MethodsFor(caller.Mode == Grains.Merchants.Mode.Test).Where(m => m.Asset == coin).ToList();
        return [.. methods.Select(m => m.Id)];
    }

    private static async Task<IResult> GetAsync([FromRoute(Name = "invoice_id")] string invoiceId, HttpContext context, IGrainFactory grains) =>
        await InvoiceEndpoints.FindAsync(grains, context.Caller(), invoiceId) is { } invoice
            ? Answer(context, invoice, StatusCodes.Status200OK)
            : ApiProblem.NotFound("invoice");

    private static async Task<IResult> ListAsync(HttpContext context, IInvoiceQuery query)
    {
        var (filter, problem) = InvoiceEndpoints.ListFilter(context, StatusOf, SortNames);
        if (filter is null)
        {
            return problem!;
        }

        var page = await query.ListAsync(filter, context.RequestAborted);
        var pagination = PaginationResponse.Of(filter, page.Total);
        return TypedResults.Json(new InvoiceApiList([.. page.Items.Select(i => ToInvoice(context, i))],
            new InvoiceApiPagination(pagination.Page, pagination.PageSize, pagination.Total, pagination.HasMore)), InvoiceApiJson.Options);
    }

    /// <summary>completed and cancelled are our manual marking (with the comment); the other statuses only payments and time can set.</summary>
    private static async Task<IResult> UpdateStatusAsync([FromRoute(Name = "invoice_id")] string invoiceId, HttpContext context, IGrainFactory grains)
    {
        if (await InvoiceEndpoints.FindAsync(grains, context.Caller(), invoiceId) is not { } invoice)
        {
            return ApiProblem.NotFound("invoice");
        }

        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var statusText = body.String("status", 20, required: true);
        var comment = body.Text("comment", InvoiceEndpoints.MaxComment);
        var status = statusText is null ? null : StatusOf(statusText);
        if (statusText is not null && status is null)
        {
            body.Fail("status", $"must be one of {string.Join(", ", StatusNames.Values)}.");
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        if (status is not (InvoiceStatus.Confirmed or InvoiceStatus.Cancelled))
        {
            return ApiProblem.Create(StatusCodes.Status409Conflict, ErrorCodes.InvalidStateTransition,
                $"An invoice can be set to completed or cancelled only; '{statusText}' follows from its payments and its expiry.");
        }

        var marked = await grains.GetGrain<IInvoiceGrain>(invoice.Id).Mark(status.Value, comment);
        return Answer(context, marked, StatusCodes.Status200OK);
    }

    /// <summary>The cryptocurrencies <c>currency</c> takes, each with the payment methods this gateway offers for it (live ones configured, and the sandbox's).</summary>
    private static IResult Currencies(LiveNetworks live) =>
        TypedResults.Json(new InvoiceApiCurrencies([.. Assets.Currencies.Where(c => !c.IsFiat).Select(c => new InvoiceApiCurrency(
            c.Code, c.Decimals,
            [.. Assets.Methods.Where(m => m.Asset == c.Code && (live.Offers(m, Grains.Merchants.Mode.Live) || live.Offers(m, Grains.Merchants.Mode.Test))).Select(m => m.Id)]))]),
            InvoiceApiJson.Options);

    private static async Task<IResult> RatesAsync(HttpContext context, IRateProvider rates, [FromKeyedServices(GatewayClock.Key)] TimeProvider time, IOptions<RateOptions> options)
    {
        var (table, problem) = await RateEndpoints.RateTableAsync(context.Request.Query["base"].ToString(), FiatCurrency, rates, time, options.Value, context.RequestAborted);
        return table is null
            ? problem!
            : TypedResults.Json(new InvoiceApiRates(table.Base, table.Prices, InvoiceApiJson.Time(table.AsOf)), InvoiceApiJson.Options);
    }

    /// <summary>Our test event (POST /v1/webhooks/test) of the status the document names, also sent to the invoice's callback_url.</summary>
    private static async Task<IResult> SimulateAsync(HttpContext context, IGrainFactory grains, [FromKeyedServices(GatewayClock.Key)] TimeProvider time)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var invoiceId = body.String("invoice_id", 64, required: true);
        var statusText = body.String("status", 20, required: true);
        var status = statusText is null ? null : StatusOf(statusText);
        if (statusText is not null && status is null)
        {
            body.Fail("status", $"must be one of {string.Join(", ", StatusNames.Values)}.");
        }
        else if (status == InvoiceStatus.Archived)
        {
            body.Fail("status", "archived invoices send no webhooks; simulate one of new, pending, completed, expired, cancelled, paid_partial.");
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        var type = WebhookEventTypes.ForStatus(Grains.Invoices.InvoiceProjection.Name(status!.Value))!;
        var (sent, notFound) = await WebhookEndpointsApi.SendTestEventAsync(context.Caller(), grains, time, invoiceId!, type, toCallbackUrl: true);
        return sent is null
            ? notFound!
            : TypedResults.Json(new InvoiceApiSimulated("success", $"{sent.Type} ({sent.EventId}) sent to {sent.Deliveries} webhook target(s)."), InvoiceApiJson.Options);
    }

    /// <summary>
    /// A project is a key of the account key's merchant and mode, in this profile's format, with the account key's scopes
    /// (so a key never makes one that may do more than itself; a read-only key makes none: the endpoint needs invoices:write).
    /// </summary>
    private static async Task<IResult> CreateProjectAsync(HttpContext context, IGrainFactory grains, MerchantOnboarding onboarding)
    {
        var caller = context.Caller();
        if (await grains.GetGrain<IApiKeyGrain>(caller.KeyId).Get() is not { Format: KeyFormats.InvoiceApi } account)
        {
            return ApiProblem.Create(StatusCodes.Status403Forbidden, ErrorCodes.Forbidden, "Projects are created with an account API key of this API (64 hexadecimal characters) in the Api-Key header.");
        }

        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var name = body.Text("name", MaxProjectName, required: true);
        var description = body.Text("description", MaxProjectDescription);
        var allowed = (body.String("api_allowed_ips", 8 * 1024) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var entry in allowed.Where(e => !MerchantEndpoints.IsAddressOrRange(e)))
        {
            body.Fail("api_allowed_ips", $"'{entry}' is neither an IP address nor a CIDR block.");
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        var issued = await onboarding.IssueKeyAsync(caller.MerchantId, new KeyRequest(caller.Mode, KeyFormats.InvoiceApi, account.Scopes, allowed, name!.Trim(), description));
        if (issued is null)
        {
            return MerchantEndpoints.NameTaken(name);
        }

        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Json(new InvoiceApiProject(issued.Id, issued.Key), InvoiceApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static IResult Answer(HttpContext context, InvoiceState invoice, int status) =>
        TypedResults.Json(ToInvoice(context, invoice), InvoiceApiJson.Options, statusCode: status);

    /// <summary>
    /// The invoice in the document's fields, as it stands now. Its coin, amounts and blockchain details are those of the
    /// payment method paid to, else the one with an address, else the first; an archived EUR import keeps its coin in metadata.
    /// </summary>
    public static InvoiceApiInvoice ToInvoice(HttpContext context, InvoiceState stored) =>
        ToInvoice(
            stored, context.RequestServices.GetRequiredKeyedService<TimeProvider>(GatewayClock.Key).GetUtcNow(),
            InvoiceEndpoints.CheckoutBase(context), context.PaymentUris());

    /// <summary>The invoice in the document's fields as it stands at <paramref name="now"/>, its checkout page under <paramref name="checkout"/>.</summary>
    public static InvoiceApiInvoice ToInvoice(InvoiceState stored, DateTimeOffset now, string checkout, PaymentUris uris)
    {
        var invoice = stored.AsOf(now);
        var spec = invoice.Spec;
        var priced = Assets.FindCurrency(spec.Currency);
        var inFiat = priced?.IsFiat ?? false;
        var shown = invoice.PaymentMethods.Find(m => m.Payments.Count > 0) ?? invoice.PaymentMethods.Find(m => m.Address is not null) ?? invoice.PaymentMethods.FirstOrDefault();
        var (recordedCoin, recordedAmount) = spec.Archived ? Recorded(spec.MetadataJson) : (null, null);
        var coin = inFiat ? shown?.Asset ?? CoinOf(recordedCoin) : spec.Currency;
        decimal? cryptoAmount = inFiat ? shown?.Amount ?? recordedAmount : spec.Amount;
        var units = shown?.AmountUnits ?? (cryptoAmount is { } amount && Assets.FindCurrency(coin) is { IsFiat: false } c ? Amounts.ToUnits(amount, c.Decimals) : null);
        return new InvoiceApiInvoice(
            invoice.Id,
            spec.MerchantId,
            null,
            spec.OrderId,
            inFiat ? spec.Amount : null,
            inFiat ? spec.Currency : null,
            coin,
            cryptoAmount,
            units,
            shown?.PaidAmount ?? 0m,
            shown?.PaidUnits ?? 0,
            spec.AllowedErrorPercent,
            spec.Description,
            (long)(spec.ExpiresAt - spec.CreatedAt).TotalMinutes,
            spec.CallbackUrl,
            StatusName(invoice.Status),
            invoice.Comment,
            InvoiceApiJson.Time(spec.CreatedAt),
            InvoiceApiJson.Time(invoice.UpdatedAt),
            InvoiceApiJson.Time(spec.ExpiresAt),
            spec.Archived || shown is null ? new Dictionary<string, object>() : Details(shown, uris),
            InvoiceMapping.CheckoutUrl(checkout, invoice.Id));
    }

    private static InvoiceApiBlockchainDetails Details(InvoicePaymentMethod method, PaymentUris uris) => new(
        method.Method, method.Network, method.Asset, method.Decimals, method.Address, uris.For(method), method.RequiredConfirmations, method.ReceivedConfirmations,
        [.. method.Payments.Select(p => new InvoiceApiTransaction(p.Txid, p.OutputIndex, Amounts.FromUnits(p.AmountUnits, method.Decimals), p.AmountUnits, p.Confirmations,
            Grains.Invoices.InvoiceProjection.Name(p.Status)))]);

    /// <summary>The coin of a recorded <c>currency</c>: the code itself, or the asset of a payment method.</summary>
    private static string? CoinOf(string? currency) => Assets.FindMethod(currency)?.Asset ?? Assets.FindCurrency(currency)?.Code ?? currency;

    /// <summary>What an archived import recorded under <see cref="MetadataKey"/>: the coin as sent and the crypto amount, if any.</summary>
    private static (string? Currency, decimal? CryptoAmount) Recorded(string? metadataJson)
    {
        if (metadataJson is null)
        {
            return (null, null);
        }

        using var document = JsonDocument.Parse(metadataJson);
        if (!document.RootElement.TryGetProperty(MetadataKey, out var recorded) || recorded.ValueKind != JsonValueKind.Object)
        {
            return (null, null);
        }

        var currency = recorded.TryGetProperty("currency", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        var amount = recorded.TryGetProperty("crypto_amount", out var a) && a.ValueKind == JsonValueKind.String &&
            decimal.TryParse(a.GetString(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var parsed) ? parsed : (decimal?)null;
        return (currency, amount);
    }
}
