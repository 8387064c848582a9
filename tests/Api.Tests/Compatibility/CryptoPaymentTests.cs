using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Api.Tests.Webhooks;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.TestSupport.Postgres;
using CryptoPay.TestSupport.Processes;

namespace CryptoPay.Api.Tests.Compatibility;

public sealed class MemoryCryptoPaymentTests : CryptoPaymentTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresCryptoPaymentTests(PostgresFixture postgres) : CryptoPaymentTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>cryptopayment.txt replayed under /compat/cryptopayment/api/v1: its requests, its Node.js and Python samples unmodified but for base URL and key, and its flow in test mode.</summary>
public abstract class CryptoPaymentTests : ProfileTestHost
{
    private const string Base = "/compat/cryptopayment/api/v1";
    private const string DocumentBase = "https://cryptopayment.center/api/v1";
    private const string DocumentKey = "pk_your_key:sk_your_secret";

    /// <summary>The document's Node.js example, verbatim.</summary>
    private const string NodeSample = """
        const response = await fetch('https://cryptopayment.center/api/v1/invoices', {
        method: 'POST',
        headers: {
        'Authorization': `Bearer pk_your_key:sk_your_secret`,
        'Content-Type': 'application/json',
        },
        body: JSON.stringify({
        network: 'trc20',
        amount_usd: 50.00,
        order_id: 'ORD-001',
        }),
        });
        const data = await response.json();
        // Redirect to: data.checkout_url
        """;

    /// <summary>The document's Python example, verbatim.</summary>
    private const string PythonSample = """
        import requests
        response = requests.post(
        'https://cryptopayment.center/api/v1/invoices',
        headers={
        'Authorization': 'Bearer pk_your_key:sk_your_secret',
        'Content-Type': 'application/json',
        },
        json={
        'network': 'trc20',
        'amount_usd': 50.00,
        'order_id': 'ORD-001',
        }
        )
        data = response.json()
        checkout_url = data['checkout_url']
        """;

    protected override string KeyFormat => KeyFormats.CryptoPayment;

    private HttpClient Merchant(string? key = null) => Client(key ?? TestKey, "Authorization");

    /// <summary>A sample with the document's base URL and key replaced by ours, and nothing else changed.</summary>
    private string Ours(string sample) =>
        sample.Replace(DocumentBase, Host.Http.BaseAddress!.ToString().TrimEnd('/') + Base, StringComparison.Ordinal).Replace(DocumentKey, TestKey, StringComparison.Ordinal);

    private static void AssertInvoiceShape(JsonElement invoice)
    {
        Assert.Equal(
            new[] { "address", "amount_crypto", "amount_usd", "confirmations", "coin", "created_at", "expires_at", "id", "metadata", "network", "network_label", "order_id", "paid_amount", "status", "txid" }.Order(StringComparer.Ordinal),
            invoice.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(["received", "required"], invoice.GetProperty("confirmations").EnumerateObject().Select(p => p.Name).Order());
    }

    [Fact]
    public void Keys_are_key_colon_secret()
    {
        Assert.Matches("^pk_[A-Za-z0-9]{24}:sk_[A-Za-z0-9]{40}$", LiveKey);
        Assert.Matches("^pk_test_[A-Za-z0-9]{24}:sk_test_[A-Za-z0-9]{40}$", TestKey);
    }

    [Fact]
    public async Task The_documents_example_request_answers_the_documented_invoice()
    {
        using var client = Merchant();
        var created = await client.PostJsonAsync(Base + "/invoices", """
            {
            "network": "trc20",
            "amount_usd": 50.00,
            "order_id": "ORD-12345",
            "metadata": { "customer_id": "usr_001" }
            }
            """);
        Assert.True(created.Status == 200, created.Body.ToString());
        Assert.True(created.Body.GetProperty("success").GetBoolean());
        var invoice = created.Body.GetProperty("invoice");
        AssertInvoiceShape(invoice);
        Assert.Equal("ORD-12345", invoice.Str("order_id"));
        Assert.Equal("pending", invoice.Str("status"));
        Assert.Equal("USDT", invoice.Str("coin"));
        Assert.Equal(50.00m, invoice.GetProperty("amount_usd").GetDecimal());
        Assert.Equal(50.00m, invoice.GetProperty("amount_crypto").GetDecimal());
        Assert.StartsWith("sbx_", invoice.Str("address"), StringComparison.Ordinal);
        Assert.Equal(0m, invoice.GetProperty("paid_amount").GetDecimal());
        Assert.Equal(JsonValueKind.Null, invoice.GetProperty("txid").ValueKind);
        Assert.Equal("usr_001", invoice.GetProperty("metadata").Str("customer_id"));
        Assert.Equal(TimeSpan.FromMinutes(30), invoice.GetProperty("expires_at").GetDateTimeOffset() - invoice.GetProperty("created_at").GetDateTimeOffset());
        Assert.EndsWith("/pay/" + invoice.Str("id"), created.Body.Str("checkout_url"), StringComparison.Ordinal);

        var got = await client.GetJsonAsync($"{Base}/invoices/{invoice.Str("id")}");
        Assert.True(got.Status == 200, got.Body.ToString());
        AssertInvoiceShape(got.Body.GetProperty("invoice"));
    }

    [Fact]
    public async Task The_documents_Node_and_Python_samples_run_unmodified()
    {
        var node = JsonDocument.Parse(await SampleScripts.RunNodeAsync(Ours(NodeSample) + "\nconsole.log(JSON.stringify(data));\n")).RootElement;
        Assert.True(node.GetProperty("success").GetBoolean(), node.ToString());
        Assert.Equal("ORD-001", node.GetProperty("invoice").Str("order_id"));

        // The same order id again is the document's "unique per merchant" rule: only the Node sample's invoice exists.
        var python = JsonDocument.Parse(await SampleScripts.RunPythonAsync(Ours(PythonSample).Replace("ORD-001", "ORD-002", StringComparison.Ordinal) + "\nimport json\nprint(json.dumps(data))\n")).RootElement;
        Assert.True(python.GetProperty("success").GetBoolean(), python.ToString());
        Assert.EndsWith("/pay/" + python.GetProperty("invoice").Str("id"), python.Str("checkout_url"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_paid_invoice_is_detected_then_confirmed_with_signed_webhooks_and_credited()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var v1 = Host.ClientWith(TestKey);
        var endpoint = await v1.PostJsonAsync("/v1/webhook-endpoints", $$"""{"url":"{{receiver.Url("/cp")}}","format":"cryptopayment"}""");
        Assert.True(endpoint.Status == 201, endpoint.Body.ToString());
        var secret = endpoint.Body.Str("secret");

        using var client = Merchant();
        var invoice = (await client.PostJsonAsync(Base + "/invoices", """{"network": "trc20", "amount_usd": 50.00, "order_id": "ORD-12345"}""")).Body.GetProperty("invoice");
        var id = invoice.Str("id");
        await PayInSandboxAsync(id);

        // Deliveries are concurrent: they may arrive in either order.
        var events = receiver.Received.Select(r => JsonDocument.Parse(r.Body).RootElement).OrderBy(e => e.Str("event") == "payment_confirmed").ToList();
        Assert.Equal(["payment_detected", "payment_confirmed"], events.Select(e => e.Str("event")));
        foreach (var e in events)
        {
            Assert.Equal(
                new[] { "address", "amount_crypto", "amount_usd", "coin", "confirmations", "event", "invoice_id", "network", "order_id", "paid_amount", "signature", "status", "timestamp", "txid" }.Order(StringComparer.Ordinal),
                e.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            // The document's check: hash_hmac('sha256', $invoiceId . '.' . $event, YOUR_APP_SECRET).
            var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{e.Str("invoice_id")}.{e.Str("event")}")));
            Assert.Equal(expected, e.Str("signature"));
            Assert.Equal(id, e.Str("invoice_id"));
            Assert.Equal(50.00m, e.GetProperty("paid_amount").GetDecimal());
        }

        Assert.Equal("confirming", events[0].Str("status"));
        Assert.Equal("confirmed", events[1].Str("status"));
        var confirmed = (await client.GetJsonAsync($"{Base}/invoices/{id}")).Body.GetProperty("invoice");
        Assert.Equal("confirmed", confirmed.Str("status"));
        Assert.Equal(events[1].Str("txid"), confirmed.Str("txid"));

        var balances = await client.GetJsonAsync(Base + "/balances");
        Assert.True(balances.Status == 200, balances.Body.ToString());
        Assert.True(balances.Body.GetProperty("success").GetBoolean());
        Assert.Equal(50.00m, balances.Body.GetProperty("balances").GetProperty("USDT-SANDBOX").GetProperty("available").GetDecimal());

        var list = await client.GetJsonAsync(Base + "/invoices?page=1");
        Assert.Equal(id, Assert.Single(list.Body.GetProperty("invoices").EnumerateArray()).Str("id"));
        Assert.Equal(20, list.Body.GetProperty("per_page").GetInt32());
    }

    [Fact]
    public async Task Invoices_are_listed_20_a_page()
    {
        using var client = Merchant();
        for (var i = 0; i < 21; i++)
        {
            Assert.Equal(200, (await client.PostJsonAsync(Base + "/invoices", $$"""{"network": "btc", "amount_usd": 5.00, "order_id": "ORD-{{i}}"}""")).Status);
        }

        var second = await client.GetJsonAsync(Base + "/invoices?page=2");
        Assert.Single(second.Body.GetProperty("invoices").EnumerateArray());
        Assert.Equal((21, 2), (second.Body.GetProperty("total").GetInt32(), second.Body.GetProperty("pages").GetInt32()));
    }

    [Fact]
    public async Task Withdrawals_use_the_documents_coins_minimums_fees_and_review()
    {
        var key = await IssueKeyAsync("""{"mode":"live","format":"cryptopayment","scopes":["balances:read","withdrawals:write"]}""");
        await Host.CreditLiveDepositAsync(MerchantId, "USDT", "tron", 2_000_000_000);
        using var client = Merchant(key);
        Assert.Equal(2000m, (await client.GetJsonAsync(Base + "/balances")).Body.GetProperty("balances").GetProperty("USDT-TRC20").GetProperty("available").GetDecimal());

        var paid = await client.PostJsonAsync(Base + "/withdrawals", """
            {
            "coin": "USDT-TRC20",
            "amount": 100.00,
            "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
            }
            """);
        Assert.True(paid.Status == 200, paid.Body.ToString());
        var withdrawal = paid.Body.GetProperty("withdrawal");
        Assert.Equal(("USDT-TRC20", 100.00m, 1m, "queued"), (withdrawal.Str("coin"), withdrawal.GetProperty("amount").GetDecimal(), withdrawal.GetProperty("fee").GetDecimal(), withdrawal.Str("status")));
        Assert.Equal(1899m, (await client.GetJsonAsync(Base + "/balances")).Body.GetProperty("balances").GetProperty("USDT-TRC20").GetProperty("available").GetDecimal());

        var big = await client.PostJsonAsync(Base + "/withdrawals", """{"coin": "USDT-TRC20", "amount": 600.00, "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"}""");
        Assert.Equal("review", big.Body.GetProperty("withdrawal").Str("status"));
        AssertError(await client.PostJsonAsync(Base + "/withdrawals", """{"coin": "USDT-TRC20", "amount": 4.99, "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"}"""),
            400, "AMOUNT_BELOW_MINIMUM", "success", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/withdrawals", """{"coin": "DOGE", "amount": 10, "address": "x"}"""), 400, "UNSUPPORTED_NETWORK", "success", "error", "code");
    }

    [Fact]
    public async Task Errors_say_success_false_with_a_code()
    {
        AssertError(await Host.Http.PostJsonAsync(Base + "/invoices", """{"network":"btc","amount_usd":5}"""), 401, "UNAUTHORIZED", "success", "error", "code");
        using var client = Merchant();
        AssertError(await client.PostJsonAsync(Base + "/invoices", """{"network":"btc","amount_usd":0.99}"""), 400, "INVALID_AMOUNT_RANGE", "success", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoices", """{"network":"doge","amount_usd":5}"""), 400, "UNSUPPORTED_NETWORK", "success", "error", "code");
        var refused = await client.PostJsonAsync(Base + "/invoices", """{"amount_usd":5}""");
        AssertError(refused, 400, "VALIDATION_FAILED", "success", "error", "code");
        Assert.False(refused.Body.GetProperty("success").GetBoolean());
        AssertError(await client.GetJsonAsync($"{Base}/invoices/{Guid.NewGuid()}"), 404, "NOT_FOUND", "success", "error", "code");
    }
}
