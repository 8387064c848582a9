using System.Globalization;
using System.Text.Json;
using CryptoPay.Api.Access;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Invoices;
using CryptoPay.Api.Json;
using CryptoPay.Api.Withdrawals;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Withdrawals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace CryptoPay.Api.Compatibility.CryptoPayment;

public sealed record CryptoPaymentError(bool Success, string Error, string Code);

public sealed record CryptoPaymentConfirmations(int Received, int Required);

public sealed record CryptoPaymentInvoice(
    Guid Id, string? OrderId, string Status, string Network, string NetworkLabel, string Coin, decimal AmountUsd, decimal AmountCrypto,
    string? Address, decimal PaidAmount, string? Txid, CryptoPaymentConfirmations Confirmations, JsonElement? Metadata,
    DateTimeOffset ExpiresAt, DateTimeOffset CreatedAt);

public sealed record CryptoPaymentInvoiceAnswer(bool Success, CryptoPaymentInvoice Invoice, string CheckoutUrl);

public sealed record CryptoPaymentInvoiceList(bool Success, IReadOnlyList<CryptoPaymentInvoice> Invoices, int Page, int PerPage, long Total, int Pages);

public sealed record CryptoPaymentBalance(decimal Available, decimal Pending);

public sealed record CryptoPaymentBalances(bool Success, IReadOnlyDictionary<string, CryptoPaymentBalance> Balances);

public sealed record CryptoPaymentWithdrawal(Guid Id, string Coin, decimal Amount, decimal Fee, string Address, string Status, string? Txid, DateTimeOffset CreatedAt);

public sealed record CryptoPaymentWithdrawalAnswer(bool Success, CryptoPaymentWithdrawal Withdrawal);

/// <summary>
/// cryptopayment.txt under <c>/compat/cryptopayment/api/v1</c>: <c>Authorization: Bearer {api_key}:{api_secret}</c>, one
/// network per invoice (btc, ltc, eth, trc20, bep20) priced by <c>amount_usd</c> (at least 1.00) with its own address,
/// <c>{success, invoice, checkout_url}</c>, 20 invoices a page, balances keyed <c>USDT-TRC20</c>, withdrawals by coin, and
/// <c>payment_detected</c>/<c>payment_confirmed</c> webhooks (<see cref="CryptoPaymentWebhookFormat"/>).
/// </summary>
public static class CryptoPaymentProfile
{
    public const int PageSize = 20;
    private const decimal MinAmountUsd = 1.00m;

    /// <summary>A document network: its label, coin, and our payment method live and in test mode (the sandbox chain, same coin).</summary>
    public sealed record NetworkInfo(string Name, string Label, string Coin, string LiveMethod, string BalanceAsset);

    public static IReadOnlyList<NetworkInfo> Networks { get; } =
    [
        new("btc", "Bitcoin", "BTC", "btc_btc", "BTC"),
        new("ltc", "Litecoin", "LTC", "ltc_ltc", "LTC"),
        new("eth", "Ethereum", "ETH", "eth_eth", "ETH"),
        new("trc20", "USDT (TRC20)", "USDT", "usdt_tron", "USDT-TRON"),
        new("bep20", "USDT (BEP20)", "USDT", "usdt_bsc", "USDT-BSC"),
    ];

    public static CompatibilityProfile Profile { get; } = new("cryptopayment", "/compat/cryptopayment/api/v1", "CryptoPayment compatibility",
        "cryptopayment.txt served as written: base URL /compat/cryptopayment/api/v1, `Authorization: Bearer {api_key}:{api_secret}` (key format cryptopayment); webhooks with an endpoint of format cryptopayment.",
        "{success: false, error, code}",
        error => new CryptoPaymentError(false, error.Message, error.Code));

    public static IEndpointRouteBuilder MapCryptoPayment(this IEndpointRouteBuilder endpoints)
    {
        var group = Profile.MapGroup(endpoints);
        group.MapPost("/invoices", CreateAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true)
            .WithSummary("Create Invoice (CryptoPayment)")
            .WithDescription("{network: btc|ltc|eth|trc20|bep20, amount_usd ≥ 1.00, order_id?, metadata?} → {success, invoice (with its own address), checkout_url}; expires in 30 minutes.");
        group.MapGet("/invoices", ListAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("List Invoices (CryptoPayment)")
            .WithDescription($"Newest first, {PageSize} per page: ?page=2.");
        group.MapGet("/invoices/{id}", GetAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("Get Invoice (CryptoPayment)")
            .WithDescription("Status pending, confirming, confirmed or expired.");
        group.MapGet("/balances", BalancesAsync).ForMerchant(ApiKeyScopes.BalancesRead)
            .WithSummary("Get Balances (CryptoPayment)")
            .WithDescription("Keyed BTC, LTC, ETH, USDT-TRC20, USDT-BEP20 (other assets by our names): {available, pending}.");
        group.MapPost("/withdrawals", WithdrawAsync).ForMerchant(ApiKeyScopes.WithdrawalsWrite, idempotent: true)
            .WithSummary("Request Withdrawal (CryptoPayment)")
            .WithDescription("{coin, amount, address}: the document's minimums and network fees; above $500 it waits for review.");
        return endpoints;
    }

    /// <summary>The balance key of the document for one of ours (USDT-TRON → USDT-TRC20), ours where it has none.</summary>
    public static string CoinName(string balanceAsset) =>
        Networks.FirstOrDefault(n => n.BalanceAsset == balanceAsset) is { } network && network.Coin != network.BalanceAsset ? $"{network.Coin}-{network.Name.ToUpperInvariant()}" : balanceAsset;

    private static async Task<IResult> CreateAsync(HttpRequest request)
    {
        var context = request.HttpContext;
        var (body, problem) = await JsonBody.ReadAsync(request);
        if (body is null)
        {
            return problem!;
        }

        var networkName = body.String("network", 10, required: true);
        var network = Networks.FirstOrDefault(n => n.Name == networkName);
        if (networkName is not null && network is null)
        {
            body.Fail("network", $"must be one of {string.Join(", ", Networks.Select(n => n.Name))}.", ErrorCodes.UnsupportedNetwork);
        }

        var amount = ProfileRequests.Amount(body, "amount_usd", required: true);
        if (amount < MinAmountUsd)
        {
            body.Fail("amount_usd", $"must be at least {MinAmountUsd}.", ErrorCodes.InvalidAmountRange);
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        var (invoice, refused) = await ProfileRequests.CreateInvoiceAsync(context, new()
        {
            ["amount"] = amount!.Value.ToString(CultureInfo.InvariantCulture),
            ["currency"] = "USD",
            ["payment_methods"] = new[] { MethodOf(network!, context.Caller().Mode) },
            ["order_id"] = body.Raw("order_id"),
            ["metadata"] = body.Raw("metadata"),
        }, new Dictionary<string, string> { ["amount"] = "amount_usd", ["payment_methods"] = "network" });
        return invoice is null ? refused! : TypedResults.Ok(Answer(invoice, context));
    }

    /// <summary>Test-mode invoices are paid on the sandbox chain, in the network's coin.</summary>
    private static string MethodOf(NetworkInfo network, Mode mode) =>
        mode == Mode.Test ? $"{network.Coin.ToLowerInvariant()}_sandbox" : network.LiveMethod;

    private static async Task<IResult> GetAsync(string id, HttpContext context, IGrainFactory grains) =>
        await InvoiceEndpoints.FindAsync(grains, context.Caller(), id) is { } invoice
            ? TypedResults.Ok(Answer(invoice, context))
            : ApiProblem.NotFound("invoice");

    private static async Task<IResult> ListAsync(HttpContext context, IInvoiceQuery query)
    {
        var caller = context.Caller();
        var errors = new Dictionary<string, string[]>();
        var page = Routing.QueryNumbers.Read(context.Request.Query, "page", 1, Routing.QueryNumbers.MaxPage, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(ErrorCodes.ValidationFailed, errors);
        }

        var result = await query.ListAsync(new InvoiceFilter { MerchantId = caller.MerchantId, Mode = caller.Mode, Page = page, PageSize = PageSize }, context.RequestAborted);
        return TypedResults.Ok(new CryptoPaymentInvoiceList(true, [.. result.Items.Select(i => ToInvoice(i))], page, PageSize, result.Total, (int)((result.Total + PageSize - 1) / PageSize)));
    }

    private static async Task<IResult> BalancesAsync(HttpContext context, ILedgerQuery ledger)
    {
        var caller = context.Caller();
        var balances = await ledger.BalancesAsync(caller.MerchantId, caller.Mode, context.RequestAborted);
        return TypedResults.Ok(new CryptoPaymentBalances(true, balances.ToDictionary(
            b => CoinName(b.Asset),
            b => new CryptoPaymentBalance(Amounts.FromUnits(b.Available, b.Decimals), Amounts.FromUnits(b.Pending, b.Decimals)))));
    }

    private static async Task<IResult> WithdrawAsync(HttpRequest request, WithdrawalRequests requests)
    {
        var context = request.HttpContext;
        var (body, problem) = await JsonBody.ReadAsync(request);
        if (body is null)
        {
            return problem!;
        }

        var coin = body.String("coin", 20, required: true);
        var amount = ProfileRequests.Amount(body, "amount", required: true);
        var address = body.String("address", 200, required: true);
        var asset = coin is null ? null : BalanceAssetOf(coin);
        if (coin is not null && asset is null)
        {
            body.Fail("coin", $"must be one of {string.Join(", ", Networks.Select(n => CoinName(n.BalanceAsset)))}.", ErrorCodes.UnsupportedNetwork);
        }

        if (amount is <= 0)
        {
            body.Fail("amount", "must be greater than 0.", ErrorCodes.InvalidAmountRange);
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        var network = Networks.First(n => n.BalanceAsset == asset);
        var method = Assets.FindMethod(network.LiveMethod)!;
        var (withdrawal, refused) = await WithdrawalEndpoints.RequestAsync(context, requests,
            new WithdrawalOrder(method.Asset, method.Network, amount!.Value, address, null, null, null));
        if (withdrawal is null)
        {
            return ProfileRequests.Rename(refused!, new Dictionary<string, string> { ["asset"] = "coin", ["network"] = "coin" });
        }

        var spec = withdrawal.Spec!;
        return TypedResults.Ok(new CryptoPaymentWithdrawalAnswer(true, new CryptoPaymentWithdrawal(
            spec.Id, CoinName(spec.Asset), Amounts.FromUnits(spec.AmountUnits, spec.Decimals), Amounts.FromUnits(spec.FeeUnits, spec.Decimals), spec.Address, WithdrawalProjection.Name(withdrawal.Status), withdrawal.Txid, spec.CreatedAt)));
    }

    private static string? BalanceAssetOf(string coin) =>
        Networks.FirstOrDefault(n => string.Equals(CoinName(n.BalanceAsset), coin, StringComparison.OrdinalIgnoreCase))?.BalanceAsset;

    private static CryptoPaymentInvoiceAnswer Answer(InvoiceState invoice, HttpContext context) =>
        new(true, ToInvoice(invoice), InvoiceMapping.CheckoutUrl(InvoiceEndpoints.CheckoutBase(context), invoice.Id));

    /// <summary>
    /// The document's invoice: the network is the one its single method is paid on (<c>sandbox</c> for a test invoice);
    /// pending until a payment is seen, confirming until it has the confirmations, confirmed, or expired (also
    /// under-paid at expiry, and cancelled).
    /// </summary>
    public static CryptoPaymentInvoice ToInvoice(InvoiceState invoice)
    {
        var spec = invoice.Spec;
        var method = invoice.PaymentMethods.FirstOrDefault();
        var network = NetworkOf(method);
        var txid = method?.Payments.OrderByDescending(p => p.DetectedAt).FirstOrDefault()?.Txid;
        return new CryptoPaymentInvoice(
            invoice.Id, spec.OrderId, StatusName(invoice.Status), network?.Name ?? method?.Network ?? "", network?.Label ?? $"{method?.Asset} ({method?.Network})", method?.Asset ?? "",
            spec.Amount, method?.Amount ?? 0m, method?.Address, method?.PaidAmount ?? 0m, txid,
            new CryptoPaymentConfirmations(method?.ReceivedConfirmations ?? 0, method?.RequiredConfirmations ?? 0),
            InvoiceMapping.Metadata(spec.MetadataJson), spec.ExpiresAt, spec.CreatedAt);
    }

    /// <summary>The document's network of a live method; none for the sandbox, which the invoice then names as it is ("sandbox").</summary>
    private static NetworkInfo? NetworkOf(InvoicePaymentMethod? method) => Networks.FirstOrDefault(n => n.LiveMethod == method?.Method);

    public static string StatusName(InvoiceStatus status) => status switch
    {
        InvoiceStatus.Pending => "pending",
        InvoiceStatus.Confirming => "confirming",
        InvoiceStatus.Confirmed or InvoiceStatus.Archived => "confirmed",
        _ => "expired",
    };
}
