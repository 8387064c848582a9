using System.Numerics;
using System.Text.Json;
using System.Text.RegularExpressions;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Api.Tests.Webhooks;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Webhooks;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Api.Tests.Compatibility;

public sealed class MemoryInvoiceApiTests : InvoiceApiTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresInvoiceApiTests(PostgresFixture postgres) : InvoiceApiTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>
/// crypto-invoice-api.txt under /compat/invoice-api: every request sample of the document replayed verbatim (a placeholder
/// such as <c>"currency": "string"</c> gets the 4xx it deserves), a valid variant of each with the documented response
/// fields, and the typical flow in test mode (the sandbox network pays test invoices).
/// </summary>
public abstract partial class InvoiceApiTests : ProfileTestHost
{
    private const string Base = "/compat/invoice-api";

    /// <summary>The fields the document shows for an invoice, and ours beside them (user_id and project_id as the archived sample shows; comment; checkout_url).</summary>
    private static readonly string[] InvoiceFields =
    [
        "invoice_id", "user_id", "project_id", "order_id", "fiat_amount", "fiat_currency", "currency", "crypto_amount", "crypto_amount_in_units",
        "actual_crypto_amount_paid", "actual_crypto_amount_paid_in_units", "allowed_error_percent", "order_name", "expire_min", "callback_url",
        "status", "comment", "created_at", "updated_at", "expires_at", "blockchain_details", "checkout_url",
    ];

    private WebhookReceiver receiver = null!;

    protected override string KeyFormat => KeyFormats.InvoiceApi;

    public override async Task InitializeAsync()
    {
        receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            await receiver.DisposeAsync();
        }
    }

    [Fact]
    public void Keys_are_64_lowercase_hex()
    {
        Assert.Matches(Hex64(), LiveKey);
        Assert.Matches(Hex64(), TestKey);
    }

    [Fact]
    public async Task The_create_sample_is_refused_for_its_placeholders_and_a_valid_variant_answers_every_documented_field()
    {
        using var client = Client(TestKey, "X-API-Key");
        // The document's request sample, verbatim: "string" is no currency, and it sends both amounts.
        var sample = await client.PostJsonAsync(Base + "/invoices", """
            {
              "order_id": "string",
              "fiat_amount": 0.1,
              "fiat_currency": "EUR",
              "crypto_amount": 0.1,
              "currency": "string",
              "allowed_error_percent": 100,
              "order_name": "string",
              "expire_min": 1,
              "callback_url": "http://example.com"
            }
            """);
        AssertError(sample, 400, "UNSUPPORTED_CURRENCY", "error", "code");
        Assert.Contains("currency", sample.Body.Str("error"), StringComparison.Ordinal);
        Assert.Contains("crypto_amount", sample.Body.Str("error"), StringComparison.Ordinal);

        // The same with a real coin still gives both amounts: one prices the invoice, the other follows from the rate.
        AssertError(await client.PostJsonAsync(Base + "/invoices", """
            {"order_id": "string", "fiat_amount": 0.1, "fiat_currency": "EUR", "crypto_amount": 0.1, "currency": "USDT",
             "allowed_error_percent": 100, "order_name": "string", "expire_min": 1, "callback_url": "http://example.com"}
            """), 400, "VALIDATION_FAILED", "error", "code");

        // A valid variant priced in EUR, paid in USDT.
        var created = await client.PostJsonAsync(Base + "/invoices", $$"""
            {"order_id": "order-1", "fiat_amount": 0.1, "fiat_currency": "EUR", "currency": "USDT",
             "allowed_error_percent": 100, "order_name": "Blue mug", "expire_min": 1, "callback_url": "{{receiver.Url("/callback")}}"}
            """);
        Assert.True(created.Status == 201, created.Body.ToString());
        var invoice = created.Body;
        AssertInvoiceFields(invoice);
        Assert.True(Guid.TryParse(invoice.Str("invoice_id"), out _));
        Assert.Equal(MerchantId, invoice.Str("user_id"));
        Assert.Equal("order-1", invoice.Str("order_id"));
        Assert.Equal("0.1", invoice.GetProperty("fiat_amount").GetRawText());
        Assert.Equal("EUR", invoice.Str("fiat_currency"));
        Assert.Equal("USDT", invoice.Str("currency"));
        var cryptoAmount = invoice.GetProperty("crypto_amount").GetDecimal();
        Assert.True(cryptoAmount > 0);
        Assert.Equal(JsonValueKind.Number, invoice.GetProperty("crypto_amount_in_units").ValueKind);
        Assert.Equal(new BigInteger(cryptoAmount * 1_000_000m), BigInteger.Parse(invoice.GetProperty("crypto_amount_in_units").GetRawText(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("0", invoice.GetProperty("actual_crypto_amount_paid").GetRawText());
        Assert.Equal("0", invoice.GetProperty("actual_crypto_amount_paid_in_units").GetRawText());
        Assert.Equal("100", invoice.GetProperty("allowed_error_percent").GetRawText());
        Assert.Equal("Blue mug", invoice.Str("order_name"));
        Assert.Equal(1, invoice.GetProperty("expire_min").GetInt32());
        Assert.Equal(receiver.Url("/callback"), invoice.Str("callback_url"));
        Assert.Equal("new", invoice.Str("status"));
        var now = Host.Clock.GetUtcNow();
        Assert.Equal(now.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), invoice.Str("created_at"));
        Assert.Equal(now.AddMinutes(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture), invoice.Str("expires_at"));
        var details = invoice.GetProperty("blockchain_details");
        Assert.Equal(("usdt_sandbox", "sandbox"), (details.Str("method"), details.Str("network")));
        Assert.False(string.IsNullOrEmpty(details.Str("address")));

        // Priced in the coin: the crypto amount as given, in units of the coin's decimals; no fiat side.
        var inCoin = await client.PostJsonAsync(Base + "/invoices", """{"order_id": "order-2", "crypto_amount": 0.1, "currency": "BTC"}""");
        Assert.True(inCoin.Status == 201, inCoin.Body.ToString());
        AssertInvoiceFields(inCoin.Body);
        Assert.Equal(("0.1", "10000000", "BTC"), (inCoin.Body.GetProperty("crypto_amount").GetRawText(), inCoin.Body.GetProperty("crypto_amount_in_units").GetRawText(), inCoin.Body.Str("currency")));
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (inCoin.Body.GetProperty("fiat_amount").ValueKind, inCoin.Body.GetProperty("fiat_currency").ValueKind));
        Assert.Equal(30, inCoin.Body.GetProperty("expire_min").GetInt32());

        // A payment method names the network too.
        var method = await client.PostJsonAsync(Base + "/invoices", """{"order_id": "order-3", "fiat_amount": 5, "currency": "btc_sandbox"}""");
        Assert.True(method.Status == 201, method.Body.ToString());
        Assert.Equal(("BTC", "btc_sandbox", "EUR"), (method.Body.Str("currency"), method.Body.GetProperty("blockchain_details").Str("method"), method.Body.Str("fiat_currency")));

        // The same invoice through /v1: objects are shared.
        using var v1 = Host.ClientWith(TestKey);
        var shared = await v1.GetJsonAsync($"/v1/invoices/{invoice.Str("invoice_id")}");
        Assert.Equal(("0.10", "EUR", "Blue mug", "order-1"), (shared.Body.Str("amount"), shared.Body.Str("currency"), shared.Body.Str("description"), shared.Body.Str("order_id")));
    }

    [Fact]
    public async Task Invoice_fields_are_checked_in_the_documents_words()
    {
        using var client = Client(TestKey, "X-API-Key");
        AssertError(await client.PostJsonAsync(Base + "/invoices", """{"fiat_amount": 1, "currency": "BTC"}"""), 400, "VALIDATION_FAILED", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoices", """{"order_id": "a", "currency": "BTC"}"""), 400, "VALIDATION_FAILED", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoices", """{"order_id": "a", "fiat_amount": 1, "fiat_currency": "USD", "currency": "BTC"}"""), 400, "UNSUPPORTED_CURRENCY", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoices", """{"order_id": "a", "fiat_amount": 1, "currency": "EUR"}"""), 400, "UNSUPPORTED_CURRENCY", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoices", """{"order_id": "a", "fiat_amount": 0, "currency": "BTC"}"""), 400, "INVALID_AMOUNT_RANGE", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoices", """{"order_id": "a", "fiat_amount": "x", "currency": "BTC"}"""), 400, "INVALID_AMOUNT_FORMAT", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoices", """{"order_id": "a", "fiat_amount": 1, "currency": "BTC", "allowed_error_percent": 101}"""), 400, "VALIDATION_FAILED", "error", "code");
        var expiry = await client.PostJsonAsync(Base + "/invoices", """{"order_id": "a", "fiat_amount": 1, "currency": "BTC", "expire_min": 0}""");
        AssertError(expiry, 400, "VALIDATION_FAILED", "error", "code");
        Assert.StartsWith("expire_min:", expiry.Body.Str("error"), StringComparison.Ordinal);
        var name = await client.PostJsonAsync(Base + "/invoices", $$"""{"order_id": "a", "fiat_amount": 1, "currency": "BTC", "order_name": "{{new string('x', 101)}}"}""");
        Assert.StartsWith("order_name:", name.Body.Str("error"), StringComparison.Ordinal);
        AssertError(await client.PostJsonAsync(Base + "/invoices", """{"order_id": "a", "fiat_amount": 1, "currency": "BTC", "callback_url": "ftp://x"}"""), 400, "VALIDATION_FAILED", "error", "code");
        // A coin paid below its smallest payment.
        AssertError(await client.PostJsonAsync(Base + "/invoices", """{"order_id": "a", "crypto_amount": 0.001, "currency": "USDT"}"""), 400, "AMOUNT_BELOW_MINIMUM", "error", "code");

        // Live invoices need a configured chain; this gateway has none, and the refusal names the document's field.
        using var live = Client(LiveKey, "X-API-Key");
        var unconfigured = await live.PostJsonAsync(Base + "/invoices", """{"order_id": "a", "fiat_amount": 1, "currency": "BTC"}""");
        AssertError(unconfigured, 400, "UNSUPPORTED_NETWORK", "error", "code");
        Assert.StartsWith("currency:", unconfigured.Body.Str("error"), StringComparison.Ordinal);

        // order_id is unique within the merchant and mode (the document's "user/project scope").
        Assert.Equal(201, (await client.PostJsonAsync(Base + "/invoices", """{"order_id": "dup", "fiat_amount": 1, "currency": "BTC"}""")).Status);
        AssertError(await client.PostJsonAsync(Base + "/invoices", """{"order_id": "dup", "fiat_amount": 2, "currency": "BTC"}"""), 409, "ORDER_ID_EXISTS", "error", "code");

        AssertError(await Host.Http.PostJsonAsync(Base + "/invoices", """{"order_id": "a", "fiat_amount": 1, "currency": "BTC"}"""), 401, "UNAUTHORIZED", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoices", "{"), 400, "VALIDATION_FAILED", "error", "code");
        AssertError(await client.GetJsonAsync(Base + "/no/such/path"), 404, "NOT_FOUND", "error", "code");
    }

    [Fact]
    public async Task The_archived_sample_imports_and_every_documented_date_format_is_read()
    {
        using var client = Client(TestKey, "X-API-Key");
        var sample = await client.PostJsonAsync(Base + "/invoices/archived", """
            {
              "order_id": "historical-order-123",
              "fiat_amount": 100,
              "fiat_currency": "EUR",
              "currency": "BTC",
              "order_name": "Historical Order",
              "created_at": "2023-01-01T10:00:00Z"
            }
            """);
        Assert.True(sample.Status == 201, sample.Body.ToString());
        var invoice = sample.Body;
        AssertInvoiceFields(invoice);
        Assert.Equal(("historical-order-123", "100", "EUR", "BTC", "archived"),
            (invoice.Str("order_id"), invoice.GetProperty("fiat_amount").GetRawText(), invoice.Str("fiat_currency"), invoice.Str("currency"), invoice.Str("status")));
        Assert.Equal(("2023-01-01T10:00:00Z", "2023-01-01T10:00:00Z", "2023-01-01T10:00:00Z"), (invoice.Str("created_at"), invoice.Str("updated_at"), invoice.Str("expires_at")));
        Assert.Equal("{}", invoice.GetProperty("blockchain_details").GetRawText());
        Assert.Equal("Historical Order", invoice.Str("order_name"));
        // No crypto amount was given and none is made up from today's rate.
        Assert.Equal(JsonValueKind.Null, invoice.GetProperty("crypto_amount").ValueKind);
        Assert.Equal(invoice.GetRawText(), (await client.GetJsonAsync($"{Base}/invoices/{invoice.Str("invoice_id")}")).Body.GetRawText());

        // A historical record may hold both amounts.
        var both = await client.PostJsonAsync(Base + "/invoices/archived", """
            {"order_id": "historical-order-124", "fiat_amount": 100, "fiat_currency": "EUR", "crypto_amount": 0.003, "currency": "BTC", "created_at": "2023-01-01T10:00:00Z"}
            """);
        Assert.True(both.Status == 201, both.Body.ToString());
        Assert.Equal(("100", "0.003", "300000", "BTC"), (both.Body.GetProperty("fiat_amount").GetRawText(), both.Body.GetProperty("crypto_amount").GetRawText(),
            both.Body.GetProperty("crypto_amount_in_units").GetRawText(), both.Body.Str("currency")));

        // The document's five formats: RFC3339, RFC3339Nano, date only, DateTime, and "02/01/2006 15:04:05" (day first).
        (string Sent, string Read)[] formats =
        [
            ("2023-02-01T10:00:00+02:00", "2023-02-01T08:00:00Z"),
            ("2023-02-02T10:00:00.123456789-01:00", "2023-02-02T11:00:00.1234567Z"),
            ("2023-02-03", "2023-02-03T00:00:00Z"),
            ("2023-02-04 15:04:05", "2023-02-04T15:04:05Z"),
            ("05/02/2023 15:04:05", "2023-02-05T15:04:05Z"),
        ];
        foreach (var (sent, read) in formats)
        {
            var imported = await client.PostJsonAsync(Base + "/invoices/archived", $$"""{"order_id": "h-{{sent}}", "crypto_amount": 0.5, "currency": "LTC", "created_at": "{{sent}}"}""");
            Assert.True(imported.Status == 201, $"{sent}: {imported.Body}");
            Assert.Equal(read, imported.Body.Str("created_at"));
            Assert.Equal(("0.5", "LTC", "archived"), (imported.Body.GetProperty("crypto_amount").GetRawText(), imported.Body.Str("currency"), imported.Body.Str("status")));
        }

        var future = Host.Clock.GetUtcNow().AddDays(1).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        AssertError(await client.PostJsonAsync(Base + "/invoices/archived", $$"""{"order_id": "h-future", "fiat_amount": 1, "currency": "BTC", "created_at": "{{future}}"}"""), 400, "VALIDATION_FAILED", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoices/archived", """{"order_id": "h-bad", "fiat_amount": 1, "currency": "BTC", "created_at": "01-01-2023"}"""), 400, "VALIDATION_FAILED", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoices/archived", """{"order_id": "historical-order-123", "fiat_amount": 1, "currency": "BTC", "created_at": "2023-01-01"}"""), 409, "ORDER_ID_EXISTS", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoices/archived", """{"order_id": "h-x", "fiat_amount": 1, "currency": "string", "created_at": "2023-01-01"}"""), 400, "UNSUPPORTED_CURRENCY", "error", "code");
    }

    [Fact]
    public async Task The_status_update_sample_is_refused_and_completed_or_cancelled_mark_the_invoice_with_the_comment()
    {
        using var client = Client(TestKey, "X-API-Key");
        var id = await CreateAsync(client, """{"order_id": "mark-1", "fiat_amount": 10, "currency": "USDT"}""");

        // The document's sample, verbatim: "new" is where an invoice starts, nobody can set it.
        AssertError(await client.SendJsonAsync(HttpMethod.Patch, $"{Base}/invoices/{id}/status", """
            {
              "status": "new",
              "comment": "string"
            }
            """), 409, "INVALID_STATE_TRANSITION", "error", "code");
        foreach (var status in new[] { "pending", "expired", "paid_partial", "archived" })
        {
            AssertError(await client.SendJsonAsync(HttpMethod.Patch, $"{Base}/invoices/{id}/status", $$"""{"status": "{{status}}"}"""), 409, "INVALID_STATE_TRANSITION", "error", "code");
        }

        AssertError(await client.SendJsonAsync(HttpMethod.Patch, $"{Base}/invoices/{id}/status", """{"status": "done"}"""), 400, "VALIDATION_FAILED", "error", "code");
        AssertError(await client.SendJsonAsync(HttpMethod.Patch, $"{Base}/invoices/{Guid.NewGuid()}/status", """{"status": "cancelled"}"""), 404, "NOT_FOUND", "error", "code");

        var cancelled = await client.SendJsonAsync(HttpMethod.Patch, $"{Base}/invoices/{id}/status", """{"status": "cancelled", "comment": "customer asked"}""");
        Assert.True(cancelled.Status == 200, cancelled.Body.ToString());
        AssertInvoiceFields(cancelled.Body);
        Assert.Equal(("cancelled", "customer asked"), (cancelled.Body.Str("status"), cancelled.Body.Str("comment")));
        // Final: a second change is refused.
        AssertError(await client.SendJsonAsync(HttpMethod.Put, $"{Base}/invoices/{id}/status", """{"status": "completed"}"""), 409, "INVALID_STATE_TRANSITION", "error", "code");

        // PUT is the same operation.
        var other = await CreateAsync(client, """{"order_id": "mark-2", "fiat_amount": 10, "currency": "USDT"}""");
        var completed = await client.SendJsonAsync(HttpMethod.Put, $"{Base}/invoices/{other}/status", """{"status": "completed", "comment": "paid by bank transfer"}""");
        Assert.True(completed.Status == 200, completed.Body.ToString());
        Assert.Equal(("completed", "paid by bank transfer"), (completed.Body.Str("status"), completed.Body.Str("comment")));
        using var v1 = Host.ClientWith(TestKey);
        Assert.Equal(("confirmed", "marked"), ((await v1.GetJsonAsync($"/v1/invoices/{other}")).Body.Str("status"), (await v1.GetJsonAsync($"/v1/invoices/{other}")).Body.Str("exception")));
    }

    [Fact]
    public async Task The_simulate_sample_is_404_and_a_simulated_status_reaches_the_callback_url()
    {
        using var client = Client(TestKey, "X-API-Key");
        // The document's sample, verbatim: "string" is no invoice of this key.
        AssertError(await client.PostJsonAsync(Base + "/webhooks/simulate", """
            {
              "invoice_id": "string",
              "status": "new"
            }
            """), 404, "NOT_FOUND", "error", "code");

        var id = await CreateAsync(client, $$"""{"order_id": "sim-1", "fiat_amount": 10, "currency": "USDT", "callback_url": "{{receiver.Url("/simulated")}}"}""");
        await ArrivedAsync("/simulated", "new");
        var simulated = await client.PostJsonAsync(Base + "/webhooks/simulate", $$"""{"invoice_id": "{{id}}", "status": "completed"}""");
        Assert.True(simulated.Status == 200, simulated.Body.ToString());
        Assert.Equal(["message", "status"], simulated.Body.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("success", simulated.Body.Str("status"));
        var hook = await ArrivedAsync("/simulated", "completed");
        var data = JsonDocument.Parse(hook.Body).RootElement;
        Assert.Equal(id, data.Str("invoice_id"));
        AssertInvoiceFields(data);
        await VerifiedAsync(hook);
        // Only simulated: the invoice itself is still new.
        Assert.Equal("new", (await client.GetJsonAsync($"{Base}/invoices/{id}")).Body.Str("status"));

        AssertError(await client.PostJsonAsync(Base + "/webhooks/simulate", $$"""{"invoice_id": "{{id}}", "status": "archived"}"""), 400, "VALIDATION_FAILED", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/webhooks/simulate", $$"""{"invoice_id": "{{id}}", "status": "string"}"""), 400, "VALIDATION_FAILED", "error", "code");
    }

    [Fact]
    public async Task The_project_sample_creates_a_64_hex_key_that_works_for_invoices_of_the_same_merchant_and_mode()
    {
        using var account = Client(TestKey, "Api-Key");
        var created = await account.PostJsonAsync(Base + "/projects", """
            {
              "name": "My API Project",
              "description": "Created via API"
            }
            """);
        Assert.True(created.Status == 201, created.Body.ToString());
        Assert.Equal(["api_key", "project_id"], created.Body.EnumerateObject().Select(p => p.Name).Order());
        Assert.True(Guid.TryParse(created.Body.Str("project_id"), out _));
        var projectKey = created.Body.Str("api_key");
        Assert.Matches(Hex64(), projectKey);
        Assert.Equal("no-store", created.Response.Headers.CacheControl?.ToString());

        using var project = Client(projectKey, "X-API-Key");
        var id = await CreateAsync(project, """{"order_id": "p-1", "fiat_amount": 3, "currency": "USDT"}""");
        Assert.Equal(200, (await account.GetJsonAsync($"{Base}/invoices/{id}")).Status);
        // The account key's merchant lists it with its name.
        using var admin = Host.ClientWith(GatewayHost.AdminKey);
        await Host.RunDueWorkAsync();
        var merchant = await admin.GetJsonAsync($"/v1/merchants/{MerchantId}");
        var listed = merchant.Body.GetProperty("api_keys").EnumerateArray().Single(k => k.Str("id") == created.Body.Str("project_id"));
        Assert.Equal(("My API Project", "test", "invoice-api"), (listed.Str("name"), listed.Str("mode"), listed.Str("format")));

        // Names are unique among the merchant's keys (ignoring case), through the profile and /v1 alike.
        AssertError(await account.PostJsonAsync(Base + "/projects", """{"name": "my api project"}"""), 409, "NAME_EXISTS", "error", "code");
        HttpJson.AssertProblem(await admin.PostJsonAsync($"/v1/merchants/{MerchantId}/api-keys", """{"mode": "live", "name": "My API Project"}"""), 409, "NAME_EXISTS");

        AssertError(await account.PostJsonAsync(Base + "/projects", """{"description": "no name"}"""), 400, "VALIDATION_FAILED", "error", "code");
        AssertError(await account.PostJsonAsync(Base + "/projects", $$"""{"name": "Long", "description": "{{new string('d', 1025)}}"}"""), 400, "VALIDATION_FAILED", "error", "code");
        AssertError(await account.PostJsonAsync(Base + "/projects", """{"name": "Bad IPs", "api_allowed_ips": "10.0.0.1,banana"}"""), 400, "VALIDATION_FAILED", "error", "code");
        AssertError(await Host.Http.PostJsonAsync(Base + "/projects", """{"name": "No key"}"""), 401, "UNAUTHORIZED", "error", "code");
        // The account key is one of this API's 64-hex keys.
        var ours = await IssueKeyAsync("""{"mode": "test", "format": "cryptopay"}""");
        using var other = Client(ours, "Api-Key");
        AssertError(await other.PostJsonAsync(Base + "/projects", """{"name": "Other"}"""), 403, "FORBIDDEN", "error", "code");
    }

    [Fact]
    public async Task A_projects_ip_allow_list_is_enforced()
    {
        using var account = Client(TestKey, "Api-Key");
        var elsewhere = await account.PostJsonAsync(Base + "/projects", """{"name": "Office", "api_allowed_ips": "10.0.0.0/8"}""");
        Assert.True(elsewhere.Status == 201, elsewhere.Body.ToString());
        using var refused = Client(elsewhere.Body.Str("api_key"), "X-API-Key");
        AssertError(await refused.GetJsonAsync(Base + "/invoices"), 403, "FORBIDDEN", "error", "code");

        var here = await account.PostJsonAsync(Base + "/projects", """{"name": "Here", "api_allowed_ips": "192.168.1.1, 127.0.0.1"}""");
        Assert.True(here.Status == 201, here.Body.ToString());
        using var allowed = Client(here.Body.Str("api_key"), "X-API-Key");
        Assert.Equal(200, (await allowed.GetJsonAsync(Base + "/invoices")).Status);

        var any = await account.PostJsonAsync(Base + "/projects", """{"name": "Anywhere", "api_allowed_ips": ""}""");
        using var anywhere = Client(any.Body.Str("api_key"), "X-API-Key");
        Assert.Equal(200, (await anywhere.GetJsonAsync(Base + "/invoices")).Status);
    }

    [Fact]
    public async Task Currencies_and_rates_are_public()
    {
        var currencies = await Host.Http.GetJsonAsync(Base + "/currencies");
        Assert.True(currencies.Status == 200, currencies.Body.ToString());
        var usdt = currencies.Body.GetProperty("currencies").EnumerateArray().Single(c => c.Str("code") == "USDT");
        Assert.Equal(6, usdt.GetProperty("decimals").GetInt32());
        Assert.Contains("usdt_sandbox", usdt.GetProperty("payment_methods").EnumerateArray().Select(m => m.GetString()));
        Assert.DoesNotContain(currencies.Body.GetProperty("currencies").EnumerateArray(), c => c.Str("code") == "EUR");

        var rates = await Host.Http.GetJsonAsync(Base + "/rates");
        Assert.True(rates.Status == 200, rates.Body.ToString());
        Assert.Equal("EUR", rates.Body.Str("base"));
        Assert.Equal(JsonValueKind.Number, rates.Body.GetProperty("rates").GetProperty("BTC").ValueKind);
        Assert.Equal(1m, rates.Body.GetProperty("rates").GetProperty("EUR").GetDecimal());
        Assert.Equal("USD", (await Host.Http.GetJsonAsync(Base + "/rates?base=USD")).Body.Str("base"));
        AssertError(await Host.Http.GetJsonAsync(Base + "/rates?base=XYZ"), 400, "UNSUPPORTED_CURRENCY", "error", "code");
    }

    [Fact]
    public async Task Typical_flow_create_pay_callback_poll_list()
    {
        using var client = Client(TestKey, "X-API-Key");
        var id = await CreateAsync(client, $$"""{"order_id": "flow-1", "fiat_amount": 25, "fiat_currency": "EUR", "currency": "USDT", "callback_url": "{{receiver.Url("/flow")}}"}""");
        await ArrivedAsync("/flow", "new");

        await PayInSandboxAsync(id);
        var confirmed = await ArrivedAsync("/flow", "completed");
        await VerifiedAsync(confirmed);

        var polled = await client.GetJsonAsync($"{Base}/invoices/{id}");
        Assert.True(polled.Status == 200, polled.Body.ToString());
        AssertInvoiceFields(polled.Body);
        Assert.Equal("completed", polled.Body.Str("status"));
        Assert.Equal(polled.Body.GetProperty("crypto_amount").GetRawText(), polled.Body.GetProperty("actual_crypto_amount_paid").GetRawText());
        Assert.Equal(polled.Body.GetProperty("crypto_amount_in_units").GetRawText(), polled.Body.GetProperty("actual_crypto_amount_paid_in_units").GetRawText());
        var transaction = Assert.Single(polled.Body.GetProperty("blockchain_details").GetProperty("transactions").EnumerateArray());
        Assert.Equal(polled.Body.GetProperty("crypto_amount_in_units").GetRawText(), transaction.GetProperty("amount_in_units").GetRawText());

        Host.Clock.Advance(TimeSpan.FromSeconds(5));
        var small = await CreateAsync(client, """{"order_id": "flow-2", "fiat_amount": 2, "currency": "USDT"}""");
        Host.Clock.Advance(TimeSpan.FromSeconds(5));
        var inCoin = await CreateAsync(client, """{"order_id": "flow-3", "crypto_amount": 0.0002, "currency": "BTC"}""");

        var completed = await client.GetJsonAsync($"{Base}/invoices?status=completed");
        Assert.True(completed.Status == 200, completed.Body.ToString());
        Assert.Equal([id], Ids(completed.Body));
        Assert.Equal(["page", "page_size", "total", "has_more"], completed.Body.GetProperty("pagination").EnumerateObject().Select(p => p.Name));
        Assert.Equal([inCoin, small], Ids((await client.GetJsonAsync($"{Base}/invoices?status=new")).Body));
        Assert.Equal([inCoin], Ids((await client.GetJsonAsync($"{Base}/invoices?currency=BTC")).Body));
        Assert.Equal([small, id], Ids((await client.GetJsonAsync($"{Base}/invoices?currency=EUR")).Body));
        // created_after takes the time itself, created_before the times before it.
        var after = Uri.EscapeDataString((await client.GetJsonAsync($"{Base}/invoices/{inCoin}")).Body.Str("created_at"));
        Assert.Equal([inCoin], Ids((await client.GetJsonAsync($"{Base}/invoices?created_after={after}")).Body));
        Assert.Equal([small, id], Ids((await client.GetJsonAsync($"{Base}/invoices?created_before={after}")).Body));
        Assert.Equal([id, small, inCoin], Ids((await client.GetJsonAsync($"{Base}/invoices?sort_by=created_at&sort_order=asc")).Body));
        // 25 EUR > 0.0002 BTC (12 USD at the static rates) > 2 EUR.
        Assert.Equal([small, inCoin, id], Ids((await client.GetJsonAsync($"{Base}/invoices?sort_by=fiat_amount&sort_order=asc")).Body));
        Assert.Equal([id, inCoin, small], Ids((await client.GetJsonAsync($"{Base}/invoices?sort_by=crypto_amount")).Body));
        Assert.Equal(JsonValueKind.Array, (await client.GetJsonAsync($"{Base}/invoices?sort_by=updated_at")).Body.GetProperty("items").ValueKind);

        var page = await client.GetJsonAsync($"{Base}/invoices?page=2&page_size=1");
        Assert.Equal([small], Ids(page.Body));
        var pagination = page.Body.GetProperty("pagination");
        Assert.Equal((2, 1, 3, true), (pagination.GetProperty("page").GetInt32(), pagination.GetProperty("page_size").GetInt32(), pagination.GetProperty("total").GetInt32(), pagination.GetProperty("has_more").GetBoolean()));
        Assert.Equal(20, (await client.GetJsonAsync($"{Base}/invoices")).Body.GetProperty("pagination").GetProperty("page_size").GetInt32());
        foreach (var bad in new[] { "page_size=101", "page_size=0", "page=0", "sort_by=amount", "sort_order=up", "status=confirmed", "created_after=yesterday" })
        {
            AssertError(await client.GetJsonAsync($"{Base}/invoices?{bad}"), 400, "VALIDATION_FAILED", "error", "code");
        }

        // Another mode's key sees none of them.
        using var live = Client(LiveKey, "X-API-Key");
        Assert.Empty(Ids((await live.GetJsonAsync($"{Base}/invoices")).Body));
        AssertError(await live.GetJsonAsync($"{Base}/invoices/{id}"), 404, "NOT_FOUND", "error", "code");

        // Expiry shows as the document's status.
        await Host.AdvanceAsync(TimeSpan.FromMinutes(31));
        Assert.Equal("expired", (await client.GetJsonAsync($"{Base}/invoices/{small}")).Body.Str("status"));
    }

    private static void AssertInvoiceFields(JsonElement invoice) =>
        Assert.Equal(InvoiceFields.Order(), invoice.EnumerateObject().Select(p => p.Name).Order());

    private static List<string> Ids(JsonElement list) => [.. list.GetProperty("items").EnumerateArray().Select(i => i.Str("invoice_id"))];

    private async Task<string> CreateAsync(HttpClient client, string body)
    {
        var created = await client.PostJsonAsync(Base + "/invoices", body);
        Assert.True(created.Status == 201, created.Body.ToString());
        return created.Body.Str("invoice_id");
    }

    /// <summary>
    /// The first delivery to <paramref name="path"/> showing the invoice in <paramref name="status"/> (a callback carries the
    /// invoice as GET shows it), once the due work and the sender have run it.
    /// </summary>
    private async Task<ReceivedWebhook> ArrivedAsync(string path, string status)
    {
        var sender = Host.Services.GetRequiredService<WebhookSender>();
        for (var round = 0; round < 20; round++)
        {
            if (receiver.Received.FirstOrDefault(r => r.Path == path && JsonDocument.Parse(r.Body).RootElement.GetProperty("status").GetString() == status) is { } hook)
            {
                return hook;
            }

            await Host.RunDueWorkAsync();
            await sender.WhenIdleAsync();
        }

        throw new Xunit.Sdk.XunitException($"No {status} delivery arrived at {path}; received: {string.Join(", ", receiver.Received.Select(r => r.Body))}");
    }

    /// <summary>Deliveries to callback_url are signed per Standard Webhooks: the npm standardwebhooks library verifies them with the merchant's callback secret.</summary>
    private async Task VerifiedAsync(ReceivedWebhook hook)
    {
        using var v1 = Host.ClientWith(TestKey);
        var secret = (await v1.GetJsonAsync("/v1/webhooks/callback-secret")).Body.Str("secret");
        var verification = await CryptoPay.TestSupport.Webhooks.StandardWebhooksVerifier.VerifyAsync(secret, hook.Id, hook.Timestamp, hook.Signature, hook.Body);
        Assert.True(verification.Verified, verification.Output);
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Hex64();
}
