using System.Numerics;
using System.Text.Json;
using CryptoPay.Api.Compatibility.Ippan;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Api.Tests.Compatibility;

public sealed class MemoryIppanTests : IppanTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresIppanTests(PostgresFixture postgres) : IppanTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>The minor-unit trap of ippan.txt (its amounts are integers of cents, never the currency's units), its ids and its error types.</summary>
public sealed class IppanMappingTests
{
    [Fact]
    public void Amount_9900_USDC_is_99_00_and_99_00_USDC_is_written_9900()
    {
        var exponent = IppanAmounts.Exponent("USDC")!.Value;
        Assert.Equal(2, exponent);
        Assert.Equal(99.00m, IppanAmounts.ToMajor(9900, exponent));
        Assert.Equal(500.00m, IppanAmounts.ToMajor(50000, exponent));
        // USDC keeps 6 decimals on chain: 99.000000 is still 9900 cents, written as a JSON integer.
        Assert.Equal("9900", JsonSerializer.Serialize(IppanAmounts.ToMinor(99.000000m, exponent)));
        Assert.Equal("9900", JsonSerializer.Serialize(IppanAmounts.ToMinor(new BigInteger(99_000_000), 6, exponent)));
        // Finer than a cent (only reachable through /v1): kept exact, never rounded.
        Assert.Equal("12.3456", JsonSerializer.Serialize(IppanAmounts.ToMinor(0.123456m, exponent)));
    }

    [Fact]
    public void Minor_units_are_cents_for_fiat_and_stablecoins_satoshis_for_btc_and_gwei_for_eth()
    {
        Assert.Equal((2, 2, 0, 8, 8, 9), (IppanAmounts.Exponent("USD")!.Value, IppanAmounts.Exponent("usdt")!.Value, IppanAmounts.Exponent("JPY")!.Value,
            IppanAmounts.Exponent("BTC")!.Value, IppanAmounts.Exponent("LTC")!.Value, IppanAmounts.Exponent("ETH")!.Value));
        Assert.Null(IppanAmounts.Exponent("XYZ"));
    }

    [Theory]
    [InlineData(401, "UNAUTHORIZED", "authentication_error")]
    [InlineData(403, "FORBIDDEN", "permission_error")]
    [InlineData(429, "RATE_LIMITED", "rate_limit_error")]
    [InlineData(422, "IDEMPOTENCY_KEY_REUSED", "idempotency_error")]
    [InlineData(409, "IDEMPOTENCY_IN_PROGRESS", "idempotency_error")]
    [InlineData(503, "RATES_UNAVAILABLE", "api_error")]
    [InlineData(409, "ORDER_ID_EXISTS", "invalid_request_error")]
    public void Errors_have_a_Stripe_like_type(int status, string code, string type)
    {
        var body = (IppanError)IppanProfile.Profile.ErrorBody(new(status, code, "why", new Dictionary<string, string[]> { ["total"] = ["is required."] }));
        Assert.Equal(new IppanErrorDetail(type, code, "why", "total"), body.Error);
    }

    [Fact]
    public void Ids_carry_their_prefix_and_map_back_only_with_it()
    {
        var id = Guid.NewGuid();
        var payment = IppanIds.Of(IppanIds.Payment, id);
        Assert.Equal("pay_" + id.ToString("N"), payment);
        Assert.Equal(id, IppanIds.Parse(IppanIds.Payment, payment));
        Assert.Null(IppanIds.Parse(IppanIds.Invoice, payment));
        Assert.Null(IppanIds.Parse(IppanIds.Payment, "pay_7f3dKz1mNv"));
        Assert.Null(IppanIds.Parse(IppanIds.Payment, id.ToString()));
    }
}

/// <summary>
/// ippan.txt replayed verbatim under /compat/ippan/v1 with only the base URL and the key changed, then the flows a
/// client runs: a payment paid in the sandbox and polled, an invoice with items, payouts on a live balance.
/// </summary>
public abstract class IppanTests : ProfileTestHost
{
    private const string Base = "/compat/ippan/v1";

    private static readonly string[] PaymentFields = ["id", "object", "amount", "currency", "status", "merchant_id", "proof_url", "created_at"];

    protected override string KeyFormat => KeyFormats.Ippan;

    /// <summary>The document's own day, so its due date and link expiry are ahead.</summary>
    protected override DateTimeOffset StartsAt => new(2026, 3, 28, 14, 22, 7, TimeSpan.Zero);

    private static Task<(int Status, JsonElement Body, HttpResponseMessage Response)> PostAsync(HttpClient client, string path, string body, string? idempotencyKey = null) =>
        client.PostJsonAsync(Base + path, body, r =>
        {
            if (idempotencyKey is not null)
            {
                r.Headers.Add("Idempotency-Key", idempotencyKey);
            }
        });

    /// <summary>The profile's error body: {"error": {type, code, message, param}} and nothing else.</summary>
    private static void AssertIppanError((int Status, JsonElement Body, HttpResponseMessage Response) answer, int status, string type, string code)
    {
        Assert.True(answer.Status == status, $"expected {status} {code}, got {answer.Status}: {answer.Body}");
        Assert.Equal("application/json", answer.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["error"], answer.Body.EnumerateObject().Select(p => p.Name));
        var error = answer.Body.GetProperty("error");
        Assert.Equal(["code", "message", "param", "type"], error.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal((type, code), (error.Str("type"), error.Str("code")));
        Assert.False(string.IsNullOrWhiteSpace(error.Str("message")));
    }

    private static void AssertHas(JsonElement body, params string[] fields) =>
        Assert.All(fields, f => Assert.True(body.TryGetProperty(f, out _), $"{f} is missing from {body}"));

    private static Guid Id(string prefix, JsonElement body)
    {
        var id = body.Str("id");
        Assert.StartsWith(prefix, id, StringComparison.Ordinal);
        return IppanIds.Parse(prefix, id) ?? throw new Xunit.Sdk.XunitException($"{id} is not a {prefix} id");
    }

    [Fact]
    public void Keys_are_sk_live_and_sk_test()
    {
        Assert.StartsWith("sk_live_", LiveKey, StringComparison.Ordinal);
        Assert.StartsWith("sk_test_", TestKey, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_payment_as_documented_answers_a_pending_payment_in_minor_units_and_a_retry_with_its_key_is_the_same_payment()
    {
        using var client = Client(TestKey, "Authorization");
        const string Body = """
            {
                "amount": 50000,
                "currency": "USDC",
                "merchant_id": "mer_9x8kLm2nQp",
                "description": "Invoice #1042",
                "metadata": {
                  "order_id": "ord_abc123",
                  "customer_email": "buyer@example.com"
                }
              }
            """;
        var created = await PostAsync(client, "/payments", Body, "ord_abc123");
        Assert.True(created.Status == 201, created.Body.ToString());
        var payment = created.Body;
        AssertHas(payment, PaymentFields);
        var id = Id(IppanIds.Payment, payment);
        Assert.Equal(("payment", "USDC", "pending"), (payment.Str("object"), payment.Str("currency"), payment.Str("status")));
        Assert.Equal(JsonValueKind.Number, payment.GetProperty("amount").ValueKind);
        Assert.Equal("50000", payment.GetProperty("amount").GetRawText());
        Assert.Equal(IppanIds.Of(IppanIds.Merchant, Guid.Parse(MerchantId)), payment.Str("merchant_id"));
        Assert.Equal("2026-03-28T14:22:07Z", payment.Str("created_at"));
        Assert.Equal(("Invoice #1042", "ord_abc123"), (payment.Str("description"), payment.GetProperty("metadata").Str("order_id")));
        Assert.EndsWith($"/pay/{id}", payment.Str("hosted_url"), StringComparison.Ordinal);

        // 50000 minor units of USDC is 500.00 USDC: the same invoice through /v1.
        using var v1 = Host.ClientWith(TestKey);
        Assert.Equal("500.000000", (await v1.GetJsonAsync($"/v1/invoices/{id}")).Body.Str("amount"));

        var retried = await PostAsync(client, "/payments", Body, "ord_abc123");
        Assert.Equal((201, payment.Str("id")), (retried.Status, retried.Body.Str("id")));
        AssertIppanError(await PostAsync(client, "/payments", Body.Replace("50000", "50001", StringComparison.Ordinal), "ord_abc123"), 422, "idempotency_error", "IDEMPOTENCY_KEY_REUSED");
    }

    [Fact]
    public async Task Amount_9900_is_99_00_USDC_on_the_invoice_it_creates()
    {
        using var client = Client(TestKey, "Authorization");
        var created = await PostAsync(client, "/payments", """{"amount": 9900, "currency": "USDC"}""");
        Assert.True(created.Status == 201, created.Body.ToString());
        using var v1 = Host.ClientWith(TestKey);
        Assert.Equal("99.000000", (await v1.GetJsonAsync($"/v1/invoices/{Id(IppanIds.Payment, created.Body)}")).Body.Str("amount"));
        Assert.Equal("9900", created.Body.GetProperty("amount").GetRawText());

        // Units, not cents, are refused rather than read a hundred times too small or too large.
        AssertIppanError(await PostAsync(client, "/payments", """{"amount": 99.00, "currency": "USDC"}"""), 400, "invalid_request_error", "INVALID_AMOUNT_FORMAT");
        AssertIppanError(await PostAsync(client, "/payments", """{"amount": "9900", "currency": "USDC"}"""), 400, "invalid_request_error", "INVALID_AMOUNT_FORMAT");
        AssertIppanError(await PostAsync(client, "/payments", """{"amount": 1e4, "currency": "USDC"}"""), 400, "invalid_request_error", "INVALID_AMOUNT_FORMAT");
    }

    [Fact]
    public async Task A_payment_paid_in_the_sandbox_is_polled_to_succeeded_and_listed()
    {
        using var client = Client(TestKey, "Authorization");
        var created = await PostAsync(client, "/payments", """{"amount": 9900, "currency": "USDC", "description": "Early-bird conference ticket"}""");
        Assert.True(created.Status == 201, created.Body.ToString());
        var id = created.Body.Str("id");
        var invoiceId = Id(IppanIds.Payment, created.Body);

        await PayInSandboxAsync(invoiceId.ToString(), "usdc_sandbox");

        var polled = await client.GetJsonAsync($"{Base}/payments/{id}");
        Assert.True(polled.Status == 200, polled.Body.ToString());
        AssertHas(polled.Body, PaymentFields);
        Assert.Equal(("succeeded", "9900", "9900"), (polled.Body.Str("status"), polled.Body.GetProperty("amount").GetRawText(), polled.Body.GetProperty("amount_paid").GetRawText()));

        var list = await client.GetJsonAsync($"{Base}/payments?limit=1");
        Assert.True(list.Status == 200, list.Body.ToString());
        Assert.Equal(("list", false), (list.Body.Str("object"), list.Body.GetProperty("has_more").GetBoolean()));
        Assert.Equal([id], list.Body.GetProperty("data").EnumerateArray().Select(p => p.Str("id")));
        AssertIppanError(await client.GetJsonAsync($"{Base}/payments?limit=101"), 400, "invalid_request_error", "VALIDATION_FAILED");

        // Past its half hour an unpaid payment reads expired.
        var unpaid = (await PostAsync(client, "/payments", """{"amount": 100, "currency": "USDC"}""")).Body.Str("id");
        await Host.AdvanceAsync(TimeSpan.FromMinutes(31));
        Assert.Equal("expired", (await client.GetJsonAsync($"{Base}/payments/{unpaid}")).Body.Str("status"));
    }

    [Fact]
    public async Task Create_invoice_as_documented_totals_its_line_items_and_is_payable_until_its_due_date()
    {
        using var client = Client(TestKey, "Authorization");
        var created = await PostAsync(client, "/invoices", """
            {
                "customer_email": "accounts@acme.co",
                "currency": "USDC",
                "due_date": "2026-04-15",
                "line_items": [
                  { "description": "SaaS license - April 2026", "amount": 129900 },
                  { "description": "Priority support add-on", "amount": 29900 }
                ]
              }
            """);
        Assert.True(created.Status == 201, created.Body.ToString());
        var invoice = created.Body;
        AssertHas(invoice, "id", "object", "status", "total", "currency", "hosted_url", "due_date", "created_at");
        var id = Id(IppanIds.Invoice, invoice);
        Assert.Equal(("invoice", "open", "USDC", "159800"), (invoice.Str("object"), invoice.Str("status"), invoice.Str("currency"), invoice.GetProperty("total").GetRawText()));
        Assert.EndsWith($"/pay/{id}", invoice.Str("hosted_url"), StringComparison.Ordinal);
        // An invoice stays payable at most 7 days: a due date further ahead is brought to the last day it can be paid.
        Assert.Equal(("2026-04-04", "2026-04-04T14:22:07Z"), (invoice.Str("due_date"), invoice.Str("expires_at")));
        Assert.Equal(["129900", "29900"], invoice.GetProperty("line_items").EnumerateArray().Select(l => l.GetProperty("amount").GetRawText()));

        using var v1 = Host.ClientWith(TestKey);
        var shared = (await v1.GetJsonAsync($"/v1/invoices/{id}")).Body;
        Assert.Equal(("1598.000000", "accounts@acme.co"), (shared.Str("amount"), shared.Str("customer_email")));

        // The last date there is: the longest an invoice stays open, like any far due date.
        var farthest = await PostAsync(client, "/invoices", """{"currency": "USDC", "total": 100, "due_date": "9999-12-31"}""");
        Assert.True(farthest.Status == 201, farthest.Body.ToString());
        Assert.Equal("2026-04-04", farthest.Body.Str("due_date"));

        // A due date within the week is kept: payable until the end of that day (UTC).
        var soon = await PostAsync(client, "/invoices", """{"currency": "USDC", "due_date": "2026-03-30", "line_items": [{"description": "Seat", "amount": 2500, "quantity": 3}]}""");
        Assert.True(soon.Status == 201, soon.Body.ToString());
        Assert.Equal(("2026-03-30", "2026-03-31T00:00:00Z", "7500"), (soon.Body.Str("due_date"), soon.Body.Str("expires_at"), soon.Body.GetProperty("total").GetRawText()));

        await PayInSandboxAsync(Id(IppanIds.Invoice, soon.Body).ToString(), "usdc_sandbox");
        var paid = await client.GetJsonAsync($"{Base}/invoices/{soon.Body.Str("id")}");
        Assert.Equal(("paid", "7500"), (paid.Body.Str("status"), paid.Body.GetProperty("amount_paid").GetRawText()));
    }

    [Fact]
    public async Task An_invoice_total_must_match_its_line_items_and_is_required_without_them()
    {
        using var client = Client(TestKey, "Authorization");
        var matching = await PostAsync(client, "/invoices", """{"currency": "USDC", "total": 1000, "line_items": [{"description": "A", "amount": 400}, {"description": "B", "amount": 600}]}""");
        Assert.True(matching.Status == 201, matching.Body.ToString());
        var noItems = await PostAsync(client, "/invoices", """{"currency": "USDC", "total": 1000}""");
        Assert.True(noItems.Status == 201, noItems.Body.ToString());
        Assert.Empty(noItems.Body.GetProperty("line_items").EnumerateArray());

        var mismatch = await PostAsync(client, "/invoices", """{"currency": "USDC", "total": 999, "line_items": [{"description": "A", "amount": 400}, {"description": "B", "amount": 600}]}""");
        AssertIppanError(mismatch, 400, "invalid_request_error", "VALIDATION_FAILED");
        Assert.Equal("line_items", mismatch.Body.GetProperty("error").Str("param"));
        var missing = await PostAsync(client, "/invoices", """{"currency": "USDC"}""");
        AssertIppanError(missing, 400, "invalid_request_error", "VALIDATION_FAILED");
        Assert.Equal("total", missing.Body.GetProperty("error").Str("param"));
        AssertIppanError(await PostAsync(client, "/invoices", """{"currency": "USDC", "line_items": [{"description": "A", "amount": 4.5}]}"""), 400, "invalid_request_error", "INVALID_AMOUNT_FORMAT");
        // Items far beyond any invoice are refused, never summed into an overflow.
        AssertIppanError(await PostAsync(client, "/invoices", """{"currency": "JPY", "line_items": [{"description": "A", "amount": 999999999999999999999999, "quantity": 1000000}, {"description": "B", "amount": 999999999999999999999999, "quantity": "79228162514264337593543950335"}]}"""),
            400, "invalid_request_error", "INVALID_AMOUNT_RANGE");
        AssertIppanError(await PostAsync(client, "/invoices", """{"currency": "USDC", "total": 100, "due_date": "2026-03-27"}"""), 400, "invalid_request_error", "VALIDATION_FAILED");
        AssertIppanError(await PostAsync(client, "/invoices", """{"currency": "USDC", "total": 100, "due_date": "15/04/2026"}"""), 400, "invalid_request_error", "VALIDATION_FAILED");
    }

    [Fact]
    public async Task Create_payment_link_as_documented_answers_its_url_in_minor_units()
    {
        using var client = Client(TestKey, "Authorization");
        var created = await PostAsync(client, "/payment-links", """
            {
                "amount": 9900,
                "currency": "USDC",
                "description": "Early-bird conference ticket",
                "reusable": true,
                "expires_at": "2026-06-01T00:00:00Z"
              }
            """);
        Assert.True(created.Status == 201, created.Body.ToString());
        var link = created.Body;
        AssertHas(link, "id", "object", "url", "amount", "currency", "reusable", "expires_at", "created_at");
        var id = Id(IppanIds.PaymentLink, link);
        Assert.Equal(("payment_link", "9900", "USDC", true), (link.Str("object"), link.GetProperty("amount").GetRawText(), link.Str("currency"), link.GetProperty("reusable").GetBoolean()));
        Assert.Equal(("2026-06-01T00:00:00Z", "2026-03-28T14:22:07Z"), (link.Str("expires_at"), link.Str("created_at")));
        Assert.EndsWith($"/pay/l/{id}", link.Str("url"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCodeOk, (await Host.Http.GetAsync(link.Str("url"))).StatusCode);

        using var v1 = Host.ClientWith(TestKey);
        Assert.Equal("99.000000", (await v1.GetJsonAsync($"/v1/payment-links/{id}")).Body.Str("amount"));
        var read = await client.GetJsonAsync($"{Base}/payment-links/{link.Str("id")}");
        Assert.Equal((200, link.Str("url")), (read.Status, read.Body.Str("url")));
    }

    private static readonly System.Net.HttpStatusCode HttpStatusCodeOk = System.Net.HttpStatusCode.OK;

    [Fact]
    public async Task Payouts_settlements_and_proofs_as_documented_answer_in_the_profiles_shape_to_a_test_key()
    {
        const string Payout = """
            {
                "amount": 250000,
                "currency": "USDC",
                "beneficiary_id": "ben_Kx7mNv3pQr",
                "reference": "contractor-march-2026",
                "metadata": { "department": "engineering" }
              }
            """;
        // The test key has no withdrawals:write scope by default; one that has it is refused in the sandbox.
        using var client = Client(TestKey, "Authorization");
        AssertIppanError(await PostAsync(client, "/payouts", Payout), 403, "permission_error", "FORBIDDEN");
        using var payer = Client(await IssueKeyAsync("""{"mode":"test","format":"ippan","scopes":["withdrawals:write","balances:read"]}"""), "Authorization");
        AssertIppanError(await PostAsync(payer, "/payouts", Payout), 400, "invalid_request_error", "WITHDRAWALS_DISABLED_IN_SANDBOX");

        // The document's ids are none of ours.
        AssertIppanError(await client.GetJsonAsync($"{Base}/settlements/stl_Nv3mTx8qRz"), 404, "invalid_request_error", "NOT_FOUND");
        AssertIppanError(await client.GetJsonAsync($"{Base}/proofs/prf_Kx7mNv3pQr"), 404, "invalid_request_error", "NOT_FOUND");
        AssertIppanError(await client.GetJsonAsync($"{Base}/settlements/{IppanIds.Of(IppanIds.Settlement, Guid.NewGuid())}"), 404, "invalid_request_error", "NOT_FOUND");
        AssertIppanError(await client.GetJsonAsync($"{Base}/proofs/{IppanIds.Of(IppanIds.Proof, Guid.NewGuid())}"), 404, "invalid_request_error", "NOT_FOUND");
    }

    [Fact]
    public async Task A_live_payout_to_a_beneficiary_reserves_its_minor_units_and_waits_for_review_above_the_threshold()
    {
        var key = await IssueKeyAsync("""{"mode":"live","format":"ippan","scopes":["withdrawals:write","balances:read"]}""");
        Assert.StartsWith("sk_live_", key, StringComparison.Ordinal);
        using var client = Client(key, "Authorization");
        await Host.CreditLiveDepositAsync(MerchantId, "USDT", "tron", 3_000_000_000); // 3,000 USDT-TRON

        var beneficiary = await PostAsync(client, "/beneficiaries", """{"network": "tron", "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "label": "Contractor"}""");
        Assert.True(beneficiary.Status == 201, beneficiary.Body.ToString());
        var beneficiaryId = beneficiary.Body.Str("id");
        Id(IppanIds.Beneficiary, beneficiary.Body);
        Assert.Equal("beneficiary", beneficiary.Body.Str("object"));
        Assert.Equal(200, (await client.GetJsonAsync($"{Base}/beneficiaries/{beneficiaryId}")).Status);

        // The document's payout, with our beneficiary and the asset this balance holds.
        var body = $$"""
            {
                "amount": 250000,
                "currency": "USDT",
                "beneficiary_id": "{{beneficiaryId}}",
                "reference": "contractor-march-2026",
                "metadata": { "department": "engineering" }
              }
            """;
        var created = await PostAsync(client, "/payouts", body, "po-1");
        Assert.True(created.Status == 201, created.Body.ToString());
        var payout = created.Body;
        AssertHas(payout, "id", "object", "amount", "currency", "status", "beneficiary_id", "proof_url", "created_at");
        var id = Id(IppanIds.Payout, payout);
        // 2,500.00 USDT is above the review threshold (500 USD): pending until an operator approves it.
        Assert.Equal(("payout", "250000", "USDT", "pending", beneficiaryId), (payout.Str("object"), payout.GetProperty("amount").GetRawText(), payout.Str("currency"), payout.Str("status"), payout.Str("beneficiary_id")));
        Assert.Equal(("100", "contractor-march-2026", "engineering"), (payout.GetProperty("fee").GetRawText(), payout.Str("reference"), payout.GetProperty("metadata").Str("department")));
        Assert.EndsWith($"{Base}/proofs/{IppanIds.Of(IppanIds.Proof, id)}", payout.Str("proof_url"), StringComparison.Ordinal);
        Assert.Equal(("499.000000", "2501.000000"), await GatewayHost.UsdtTronAsync(Host.ClientWith(key)));
        Assert.Equal((201, payout.Str("id")), ((await PostAsync(client, "/payouts", body, "po-1")).Status, (await PostAsync(client, "/payouts", body, "po-1")).Body.Str("id")));

        using var admin = Host.ClientWith(GatewayHost.AdminKey);
        Assert.Equal(200, (await admin.PostJsonAsync($"/v1/admin/withdrawals/{id}/approve", "{}")).Status);
        Assert.Equal("processing", (await client.GetJsonAsync($"{Base}/payouts/{payout.Str("id")}")).Body.Str("status"));

        // On tron the operator pays by hand: finalized, but no batch, so no proof.
        var recorded = await admin.PostJsonAsync($"/v1/admin/withdrawals/{id}/record-payout", $$"""{"txid":"{{new string('a', 64)}}"}""");
        Assert.True(recorded.Status == 200, recorded.Body.ToString());
        var finalized = (await client.GetJsonAsync($"{Base}/payouts/{payout.Str("id")}")).Body;
        Assert.Equal(("finalized", JsonValueKind.Null), (finalized.Str("status"), finalized.GetProperty("settlement_id").ValueKind));
        AssertIppanError(await client.GetJsonAsync($"{Base}/proofs/{IppanIds.Of(IppanIds.Proof, id)}"), 404, "invalid_request_error", "NOT_FOUND");

        // Refusals name the document's fields.
        AssertIppanError(await PostAsync(client, "/payouts", body.Replace("250000", "99000000", StringComparison.Ordinal)), 400, "invalid_request_error", "INSUFFICIENT_BALANCE");
        AssertIppanError(await PostAsync(client, "/payouts", body.Replace(beneficiaryId, IppanIds.Of(IppanIds.Beneficiary, Guid.NewGuid()), StringComparison.Ordinal)), 404, "invalid_request_error", "NOT_FOUND");
        AssertIppanError(await PostAsync(client, "/payouts", body.Replace(beneficiaryId, "ben_Kx7mNv3pQr", StringComparison.Ordinal)), 404, "invalid_request_error", "NOT_FOUND");
        var wrongAsset = await PostAsync(client, "/payouts", body.Replace("\"USDT\"", "\"BTC\"", StringComparison.Ordinal));
        AssertIppanError(wrongAsset, 400, "invalid_request_error", "UNSUPPORTED_NETWORK");
    }

    [Fact]
    public async Task Errors_come_in_the_profiles_shape()
    {
        AssertIppanError(await Host.Http.PostJsonAsync(Base + "/payments", """{"amount": 100, "currency": "USDC"}"""), 401, "authentication_error", "UNAUTHORIZED");
        using var client = Client(TestKey, "Authorization");
        AssertIppanError(await PostAsync(client, "/payments", """{"amount": 100, "currency": "XYZ"}"""), 400, "invalid_request_error", "UNSUPPORTED_CURRENCY");
        AssertIppanError(await PostAsync(client, "/payments", """{"amount": 0, "currency": "USDC"}"""), 400, "invalid_request_error", "INVALID_AMOUNT_RANGE");
        AssertIppanError(await PostAsync(client, "/payments", """{"amount": 100, "currency": "USDC", "merchant_id": 7}"""), 400, "invalid_request_error", "VALIDATION_FAILED");
        AssertIppanError(await PostAsync(client, "/payments", "{"), 400, "invalid_request_error", "VALIDATION_FAILED");
        AssertIppanError(await client.GetJsonAsync($"{Base}/payments/pay_7f3dKz1mNv"), 404, "invalid_request_error", "NOT_FOUND");
        AssertIppanError(await client.GetJsonAsync($"{Base}/invoices/inv_Qp3rTx8mNv"), 404, "invalid_request_error", "NOT_FOUND");
        AssertIppanError(await client.GetJsonAsync($"{Base}/payment-links/plink_Nv3mTx8qRz"), 404, "invalid_request_error", "NOT_FOUND");
        AssertIppanError(await client.GetJsonAsync($"{Base}/payouts/po_Tx8mNv3qRz"), 404, "invalid_request_error", "NOT_FOUND");
        AssertIppanError(await client.GetJsonAsync($"{Base}/no/such/path"), 404, "invalid_request_error", "NOT_FOUND");

        // Ids keep their type: a payment's id is not an invoice's, and a live key sees no test object.
        var payment = (await PostAsync(client, "/payments", """{"amount": 100, "currency": "USDC"}""")).Body.Str("id");
        var invoiceId = "inv_" + payment["pay_".Length..];
        AssertIppanError(await client.GetJsonAsync($"{Base}/payments/{payment.ToUpperInvariant()}"), 404, "invalid_request_error", "NOT_FOUND");
        Assert.Equal("invoice", (await client.GetJsonAsync($"{Base}/invoices/{invoiceId}")).Body.Str("object"));
        using var live = Client(LiveKey, "Authorization");
        AssertIppanError(await live.GetJsonAsync($"{Base}/payments/{payment}"), 404, "invalid_request_error", "NOT_FOUND");
    }
}
