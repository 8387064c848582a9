using System.Globalization;
using System.Text.Json;
using CryptoPay.Api.Access;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Invoices;
using CryptoPay.Api.Json;
using CryptoPay.Api.PaymentLinks;
using CryptoPay.Api.Settlements;
using CryptoPay.Api.Withdrawals;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Withdrawals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace CryptoPay.Api.Compatibility.Ippan;

public sealed record IppanErrorDetail(string Type, string Code, string Message, string? Param);

/// <summary>The error body: Stripe-like, as the document's Stripe-like objects suggest (it shows none).</summary>
public sealed record IppanError(IppanErrorDetail Error);

/// <summary>
/// ippan.txt under <c>/compat/ippan/v1</c>: <c>Authorization: Bearer sk_live_…</c>, amounts in integer minor units,
/// payments and invoices (both our invoices), payment links, payouts to beneficiaries (our withdrawals), settlements and
/// proofs, with prefixed ids and an <c>object</c> field. Each handler maps the document's body onto the /v1 core and the
/// object back; no rule lives here.
/// </summary>
public static class IppanProfile
{
    public static CompatibilityProfile Profile { get; } = new("ippan", "/compat/ippan/v1", "IPPAN compatibility",
        "ippan.txt served as written: base URL /compat/ippan/v1, `Authorization: Bearer sk_live_…` (key format ippan), amounts in integer minor units, prefixed ids.",
        "{error: {type, code, message, param}}", error => new IppanError(
        new IppanErrorDetail(ErrorType(error), error.Code, error.Message, error.Errors?.Keys.FirstOrDefault())));

    /// <summary>/v1 field → the document's, for the errors of composed bodies.</summary>
    private static readonly Dictionary<string, string> PayoutFields = new(StringComparer.Ordinal) { ["asset"] = "currency", ["address"] = "beneficiary_id", ["network"] = "beneficiary_id" };

    private static readonly Dictionary<string, string> InvoiceFields = new(StringComparer.Ordinal) { ["amount"] = "total", ["expires_in"] = "due_date" };

    public static IEndpointRouteBuilder MapIppan(this IEndpointRouteBuilder endpoints)
    {
        var group = Profile.MapGroup(endpoints);
        group.MapPost("/payments", CreatePaymentAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true)
            .WithSummary("Create Payment (IPPAN)")
            .WithDescription("{amount (integer minor units: 9900 USDC = 99.00), currency, merchant_id?, description?, metadata?} → 201 payment {id: pay_…, object, status: pending, hosted_url, …}. " +
                "Idempotency-Key honoured. merchant_id is accepted and ignored: the key names the merchant.");
        group.MapGet("/payments", ListPaymentsAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("List Payments (IPPAN)")
            .WithDescription("{object: list, data: [payment], has_more}, newest first; limit 1–100 (default 20), page ≥ 1. Invoices are listed too: both are our invoices.");
        group.MapGet("/payments/{id}", GetPaymentAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("Get Payment (IPPAN)")
            .WithDescription("The payment pay_…: status pending, processing, succeeded, underpaid, expired, cancelled or archived.");
        group.MapPost("/invoices", CreateInvoiceAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true)
            .WithSummary("Create Invoice (IPPAN)")
            .WithDescription("{currency, line_items [{description, amount (minor units), quantity?}], total? (required without line items, else must equal their sum), due_date? (yyyy-MM-dd), customer_email?, description?, metadata?} " +
                "→ 201 invoice {id: inv_…, object, status: open, total, hosted_url, due_date, …}. The invoice can be paid until the end of due_date (UTC), at most 7 days ahead.");
        group.MapGet("/invoices/{id}", GetInvoiceAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("Get Invoice (IPPAN)")
            .WithDescription("The invoice inv_…: status open, paid, void, uncollectible or archived.");
        group.MapPost("/payment-links", CreatePaymentLinkAsync).ForMerchant(ApiKeyScopes.InvoicesWrite, idempotent: true)
            .WithSummary("Create Payment Link (IPPAN)")
            .WithDescription("{amount (minor units), currency, description?, reusable?, max_uses?, expires_at?} → 201 payment_link {id: plink_…, url, …}. Each Pay on the url opens a new payment.");
        group.MapGet("/payment-links/{id}", GetPaymentLinkAsync).ForMerchant(ApiKeyScopes.InvoicesRead)
            .WithSummary("Get Payment Link (IPPAN)")
            .WithDescription("The payment link plink_… with its uses so far.");
        group.MapPost("/beneficiaries", CreateBeneficiaryAsync).ForMerchant(ApiKeyScopes.WithdrawalsWrite, idempotent: true)
            .WithSummary("Create Beneficiary (IPPAN)")
            .WithDescription("The document pays beneficiaries (ben_…) without naming how they are made: {network, address, label?} → 201 beneficiary {id: ben_…}, the address validated for its network.");
        group.MapGet("/beneficiaries/{id}", GetBeneficiaryAsync).ForMerchant(ApiKeyScopes.BalancesRead)
            .WithSummary("Get Beneficiary (IPPAN)")
            .WithDescription("The beneficiary ben_…: network, address and label.");
        group.MapPost("/payouts", CreatePayoutAsync).ForMerchant(ApiKeyScopes.WithdrawalsWrite, idempotent: true)
            .WithSummary("Create Payout (IPPAN)")
            .WithDescription("{amount (minor units), currency, beneficiary_id: ben_…, reference?, metadata?} → 201 payout {id: po_…, status: processing (pending while held for review), proof_url, …}: " +
                "reserves amount + fee on the live balance, paid in the network's next settlement. Live keys with the withdrawals:write scope only; a test key is refused with WITHDRAWALS_DISABLED_IN_SANDBOX.");
        group.MapGet("/payouts/{id}", GetPayoutAsync).ForMerchant(ApiKeyScopes.BalancesRead)
            .WithSummary("Get Payout (IPPAN)")
            .WithDescription("The payout po_…: status pending, processing, finalized, failed, rejected or cancelled; settlement_id once in a batch.");
        group.MapGet("/settlements/{id}", GetSettlementAsync).ForMerchant(ApiKeyScopes.BalancesRead)
            .WithSummary("Get Settlement (IPPAN)")
            .WithDescription("The settlement stl_… paying some of the key's payouts: status (open, broadcast, confirmed, finalized, failed), total and currency of those payouts, " +
                "payment_ids (the payments whose deposits an automatic settlement paid out), proof_hash (the Merkle root committed on chain).");
        group.MapGet("/proofs/{id}", GetProofAsync).ForMerchant(ApiKeyScopes.BalancesRead)
            .WithSummary("Get Proof (IPPAN)")
            .WithDescription("The proof prf_… of the payout po_… with the same id: its settlement, the committed hash, the payout's block height, verified once final, " +
                "and verification_url with the Merkle branch and transactions to check it against a node. 409 PROOF_NOT_READY until the payout is in a block.");
        return endpoints;
    }

    private static string ErrorType(ProfileError error) => error.Status switch
    {
        StatusCodes.Status401Unauthorized => "authentication_error",
        StatusCodes.Status403Forbidden => "permission_error",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        >= 500 => "api_error",
        _ when error.Code is ErrorCodes.IdempotencyKeyReused or ErrorCodes.IdempotencyInProgress => "idempotency_error",
        _ => "invalid_request_error",
    };

    private static string Base(HttpContext context) => InvoiceEndpoints.CheckoutBase(context).TrimEnd('/');

    private static string HostedUrl(HttpContext context, Guid invoiceId) => InvoiceMapping.CheckoutUrl(Base(context), invoiceId);

    private static string ProofUrl(HttpContext context, Guid withdrawalId) => $"{Base(context)}{Profile.Prefix}/proofs/{IppanIds.Of(IppanIds.Proof, withdrawalId)}";

    private static async Task<IResult> CreatePaymentAsync(HttpRequest request)
    {
        var context = request.HttpContext;
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var currency = body.String("currency", 10, required: true);
        var amount = IppanAmounts.Read(body, body.Root, "amount", "amount", IppanAmounts.Exponent(currency), required: true);
        // The key names the merchant: merchant_id is read (a string) and otherwise ignored.
        body.String("merchant_id", 64);
        if (!body.IsValid)
        {
            return body.Problem();
        }

        var (invoice, refused) = await ProfileRequests.CreateInvoiceAsync(context, new()
        {
            ["amount"] = amount,
            ["currency"] = currency,
            ["description"] = Raw(body, "description"),
            ["metadata"] = Raw(body, "metadata"),
        });
        return invoice is null ? refused! : TypedResults.Created($"{Profile.Prefix}/payments/{IppanIds.Of(IppanIds.Payment, invoice.Id)}", invoice.ToPayment(HostedUrl(context, invoice.Id)));
    }

    private static async Task<IResult> GetPaymentAsync(string id, HttpContext context, IGrainFactory grains) =>
        IppanIds.Parse(IppanIds.Payment, id) is { } invoiceId && await InvoiceEndpoints.FindAsync(grains, context.Caller(), invoiceId.ToString()) is { } invoice
            ? TypedResults.Ok(invoice.ToPayment(HostedUrl(context, invoice.Id)))
            : ApiProblem.NotFound("payment");

    private static async Task<IResult> ListPaymentsAsync(HttpContext context, IInvoiceQuery query)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var limit = Routing.QueryNumbers.Read(context.Request.Query, "limit", 20, 100, errors);
        var page = Routing.QueryNumbers.Read(context.Request.Query, "page", 1, Routing.QueryNumbers.MaxPage, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(ErrorCodes.ValidationFailed, errors);
        }

        var caller = context.Caller();
        var result = await query.ListAsync(new InvoiceFilter
        {
            MerchantId = caller.MerchantId,
            Mode = caller.Mode,
            SortBy = InvoiceSort.CreatedAt,
            Descending = true,
            Page = page,
            PageSize = limit,
        }, context.RequestAborted);
        return TypedResults.Ok(new IppanList<IppanPayment>("list", [.. result.Items.Select(i => i.ToPayment(HostedUrl(context, i.Id)))], (long)page * limit < result.Total));
    }

    private static async Task<IResult> CreateInvoiceAsync(HttpContext context, [FromKeyedServices(GatewayClock.Key)] TimeProvider time)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var root = body.Root;
        var currency = body.String("currency", 10, required: true);
        var exponent = IppanAmounts.Exponent(currency);
        var lineItems = body.Element("line_items", JsonValueKind.Array);
        var total = IppanAmounts.Read(body, root, "total", "total", exponent, required: lineItems is null);
        var items = new List<Dictionary<string, object?>>();
        var index = 0;
        foreach (var item in lineItems?.EnumerateArray() ?? default)
        {
            var path = $"line_items[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                body.Fail(path, "must be an object.");
                continue;
            }

            // The item's fields as sent, its amount in the currency's units: the core checks them all.
            var v1Item = item.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value, StringComparer.Ordinal);
            v1Item["amount"] = IppanAmounts.Read(body, item, "amount", $"{path}.amount", exponent, required: true);
            items.Add(v1Item);
        }

        var expiresIn = ExpiresIn(body, time.GetUtcNow());
        if (!body.IsValid)
        {
            return body.Problem();
        }

        // The items' sum is the invoice's amount; a total given too must equal it (the core checks, naming line_items).
        var amount = total ?? Sum(items);
        var (invoice, refused) = await ProfileRequests.CreateInvoiceAsync(context, new()
        {
            ["amount"] = amount,
            ["currency"] = currency,
            ["line_items"] = items.Count > 0 ? items : null,
            ["expires_in"] = expiresIn,
            ["customer_email"] = Raw(body, "customer_email"),
            ["description"] = Raw(body, "description"),
            ["metadata"] = Raw(body, "metadata"),
        }, InvoiceFields);
        return invoice is null ? refused! : TypedResults.Created($"{Profile.Prefix}/invoices/{IppanIds.Of(IppanIds.Invoice, invoice.Id)}", invoice.ToInvoice(HostedUrl(context, invoice.Id)));
    }

    /// <summary>
    /// Σ amount × quantity of the items, as /v1's amount. A sum beyond what a decimal holds is answered as the largest
    /// decimal, which the core refuses as beyond any invoice (with the items' own errors), rather than overflowing here.
    /// </summary>
    private static string Sum(List<Dictionary<string, object?>> items)
    {
        try
        {
            return items.Aggregate(0m, (sum, i) => sum + decimal.Parse((string)i["amount"]!, CultureInfo.InvariantCulture) * Quantity(i)).ToString(CultureInfo.InvariantCulture);
        }
        catch (OverflowException)
        {
            return decimal.MaxValue.ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>An item's quantity for its invoice's sum: 1 when absent; one the core will refuse counts as 1 here.</summary>
    private static decimal Quantity(Dictionary<string, object?> item) =>
        item.TryGetValue("quantity", out var value) && value is JsonElement quantity &&
        decimal.TryParse(quantity.ValueKind == JsonValueKind.String ? quantity.GetString() : quantity.GetRawText(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)
            ? number
            : 1m;

    /// <summary>
    /// due_date (yyyy-MM-dd) as the invoice's expiry: the end of that day, UTC, but no later than the longest an invoice
    /// may stay open (7 days, API.md); null without a due date (the /v1 default, 30 minutes).
    /// </summary>
    private static long? ExpiresIn(JsonBody body, DateTimeOffset now)
    {
        if (body.String("due_date", 10) is not { } text)
        {
            return null;
        }

        if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            body.Fail("due_date", "must be a date, yyyy-MM-dd.");
            return null;
        }

        if (date > DateOnly.FromDateTime((now + InvoiceOrder.MaxExpiry).UtcDateTime))
        {
            return (long)InvoiceOrder.MaxExpiry.TotalSeconds;
        }

        var end = new DateTimeOffset(date.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        if (end <= now)
        {
            body.Fail("due_date", "must be today or later (UTC).");
            return null;
        }

        return (long)Math.Min(Math.Floor((end - now).TotalSeconds), InvoiceOrder.MaxExpiry.TotalSeconds);
    }

    private static async Task<IResult> GetInvoiceAsync(string id, HttpContext context, IGrainFactory grains) =>
        IppanIds.Parse(IppanIds.Invoice, id) is { } invoiceId && await InvoiceEndpoints.FindAsync(grains, context.Caller(), invoiceId.ToString()) is { } invoice
            ? TypedResults.Ok(invoice.ToInvoice(HostedUrl(context, invoice.Id)))
            : ApiProblem.NotFound("invoice");

    private static async Task<IResult> CreatePaymentLinkAsync(HttpContext context, IGrainFactory grains, [FromKeyedServices(GatewayClock.Key)] TimeProvider time)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var currency = body.String("currency", 10, required: true);
        var amount = IppanAmounts.Read(body, body.Root, "amount", "amount", IppanAmounts.Exponent(currency), required: true);
        if (!body.IsValid)
        {
            return body.Problem();
        }

        var (link, refused) = await PaymentLinkEndpoints.CreateLinkAsync(context, Compose(body, new() { ["amount"] = amount }), grains, time);
        return link is null
            ? refused!
            : TypedResults.Created($"{Profile.Prefix}/payment-links/{IppanIds.Of(IppanIds.PaymentLink, link.Id)}", link.ToPaymentLink(PaymentLinkEndpoints.UrlOf(link, Base(context))));
    }

    private static async Task<IResult> GetPaymentLinkAsync(string id, HttpContext context, IGrainFactory grains) =>
        IppanIds.Parse(IppanIds.PaymentLink, id) is { } linkId && await PaymentLinkEndpoints.FindAsync(grains, context.Caller(), linkId.ToString()) is { } link
            ? TypedResults.Ok(link.ToPaymentLink(PaymentLinkEndpoints.UrlOf(link, Base(context))))
            : ApiProblem.NotFound("payment link");

    private static async Task<IResult> CreateBeneficiaryAsync(HttpContext context, IGrainFactory grains, WithdrawalRequests requests, [FromKeyedServices(GatewayClock.Key)] TimeProvider time)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var (saved, refused) = await BeneficiaryEndpoints.SaveAsync(context, body, grains, requests, time);
        return saved is null ? refused! : TypedResults.Created($"{Profile.Prefix}/beneficiaries/{IppanIds.Of(IppanIds.Beneficiary, saved.Id)}", saved.ToBeneficiary());
    }

    private static async Task<IResult> GetBeneficiaryAsync(string id, HttpContext context, IGrainFactory grains) =>
        IppanIds.Parse(IppanIds.Beneficiary, id) is { } beneficiaryId && await BeneficiaryEndpoints.Registry(grains, context.Caller()).Get(beneficiaryId) is { } beneficiary
            ? TypedResults.Ok(beneficiary.ToBeneficiary())
            : ApiProblem.NotFound("beneficiary");

    private static async Task<IResult> CreatePayoutAsync(HttpContext context, WithdrawalRequests requests)
    {
        // Before the body is read, as /v1 does: no test-mode request can pay out, however it is written.
        if (WithdrawalEndpoints.SandboxRefusal(context.Caller()) is { } sandbox)
        {
            return sandbox;
        }

        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var currency = body.String("currency", 10, required: true);
        var amount = IppanAmounts.Read(body, body.Root, "amount", "amount", IppanAmounts.Exponent(currency), required: true);
        var beneficiary = body.String("beneficiary_id", 64, required: true);
        if (!body.IsValid)
        {
            return body.Problem();
        }

        if (IppanIds.Parse(IppanIds.Beneficiary, beneficiary) is not { } beneficiaryId)
        {
            return ApiProblem.NotFound("beneficiary");
        }

        var v1 = Compose(body, new()
        {
            ["asset"] = currency,
            ["amount"] = amount,
            ["beneficiary_id"] = beneficiaryId.ToString(),
        });
        var (withdrawal, refused) = await WithdrawalEndpoints.RequestAsync(context, v1, requests);
        return withdrawal is null
            ? ProfileRequests.Rename(refused!, PayoutFields)
            : TypedResults.Created($"{Profile.Prefix}/payouts/{IppanIds.Of(IppanIds.Payout, withdrawal.Spec!.Id)}", withdrawal.ToPayout(ProofUrl(context, withdrawal.Spec.Id)));
    }

    private static async Task<IResult> GetPayoutAsync(string id, HttpContext context, IGrainFactory grains) =>
        IppanIds.Parse(IppanIds.Payout, id) is { } withdrawalId && await WithdrawalEndpoints.FindAsync(grains, context.Caller(), withdrawalId.ToString()) is { } withdrawal
            ? TypedResults.Ok(withdrawal.ToPayout(ProofUrl(context, withdrawalId)))
            : ApiProblem.NotFound("payout");

    private static async Task<IResult> GetSettlementAsync(string id, HttpContext context, IGrainFactory grains)
    {
        var caller = context.Caller();
        if (IppanIds.Parse(IppanIds.Settlement, id) is not { } settlementId ||
            await SettlementEndpoints.FindForCallerAsync(grains, caller, settlementId.ToString()) is not { } settlement)
        {
            return ApiProblem.NotFound("settlement");
        }

        // payment_ids: the invoices whose deposits (ledger outputs) the caller's automatic settlements in the batch paid out.
        var outputs = settlement.Entries.Where(e => e.MerchantId == caller.MerchantId).SelectMany(e => e.PaymentIds).ToList();
        var credited = await Task.WhenAll(outputs.Select(key => grains.GetGrain<ILedgerOutputGrain>(key).Get()));
        return TypedResults.Ok(settlement.ToSettlement(caller.MerchantId, [.. credited.Where(o => o.Exists).Select(o => o.InvoiceId).Distinct()]));
    }

    private static async Task<IResult> GetProofAsync(string id, HttpContext context, IGrainFactory grains)
    {
        if (IppanIds.Parse(IppanIds.Proof, id) is not { } withdrawalId)
        {
            return ApiProblem.NotFound("proof");
        }

        var (proof, problem) = await SettlementEndpoints.FindProofAsync(grains, context.Caller(), withdrawalId.ToString());
        return proof is null ? problem! : TypedResults.Ok(proof.ToProof($"{Base(context)}/v1/proofs/{withdrawalId}"));
    }

    /// <summary>A field as sent, whatever its type (the core checks it); null when absent.</summary>
    private static JsonElement? Raw(JsonBody body, string name) => body.Root.TryGetProperty(name, out var value) ? value : null;

    /// <summary>The request's own fields with <paramref name="replaced"/> (translated) put in: a /v1 body.</summary>
    private static JsonBody Compose(JsonBody body, Dictionary<string, object?> replaced)
    {
        var fields = body.Root.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value, StringComparer.Ordinal);
        foreach (var (name, value) in replaced)
        {
            fields[name] = value;
        }

        return JsonBody.Of(JsonSerializer.SerializeToElement(fields, ProfileJson.Options));
    }
}
