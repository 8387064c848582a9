using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Api.Tests.Webhooks;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Api.Tests.Compatibility;

public sealed class MemoryPepayTests : PepayTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresPepayTests(PostgresFixture postgres) : PepayTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>pepay.txt replayed under /compat/pepay with only the base URL and the key changed, then its flow in test mode.</summary>
public abstract class PepayTests : ProfileTestHost
{
    private const string Base = "/compat/pepay";

    /// <summary>The document's create request, verbatim (its // comments are not JSON and are left out).</summary>
    private const string CreateExample = """
        {
        "amount_usd": 100.00,
        "description": "Order #1234",
        "customer_id": "cust_123",
        "metadata": {
        "order_id": "1234",
        "product_id": "prod_456"
        },
        "expires_in": 3600000
        }
        """;

    protected override string KeyFormat => KeyFormats.Pepay;

    private HttpClient Pepay(string? idempotencyKey = null)
    {
        var client = Client(TestKey, "x-api-key");
        if (idempotencyKey is not null)
        {
            client.DefaultRequestHeaders.Add("Idempotency-Key", idempotencyKey);
        }

        return client;
    }

    [Fact]
    public async Task The_documents_create_get_list_and_totals_examples_answer_their_documented_shapes()
    {
        using var client = Pepay("unique_request_id");
        var created = await client.PostJsonAsync(Base + "/api/v1/invoices", CreateExample);
        Assert.True(created.Status == 200, created.Body.ToString());
        var id = created.Body.Str("id");
        Assert.StartsWith("inv_", id, StringComparison.Ordinal);
        Assert.Equal(100.00m, created.Body.GetProperty("amount_usd").GetDecimal());
        Assert.Equal("unpaid", created.Body.Str("status"));
        Assert.EndsWith("/pay/" + Guid.ParseExact(id[4..], "N"), created.Body.Str("payment_url"), StringComparison.Ordinal);
        Assert.Equal("cust_123", created.Body.Str("customer_id"));
        Assert.Equal("prod_456", created.Body.GetProperty("metadata").Str("product_id"));
        var createdAt = created.Body.GetProperty("created_at").GetDateTimeOffset();
        Assert.Equal(createdAt.AddHours(1), created.Body.GetProperty("expires_at").GetDateTimeOffset());

        // A retry with the same key is the same invoice.
        Assert.Equal(id, (await client.PostJsonAsync(Base + "/api/v1/invoices", CreateExample)).Body.Str("id"));

        using var reader = Pepay();
        var got = await reader.GetJsonAsync($"{Base}/api/v1/invoices/{id}");
        Assert.True(got.Status == 200, got.Body.ToString());
        Assert.Equal(id, got.Body.Str("id"));
        Assert.Equal(JsonValueKind.Null, got.Body.GetProperty("paid_at").ValueKind);

        var list = await reader.GetJsonAsync($"{Base}/api/v1/invoices?page=1&status=unpaid&customer_id=cust_123");
        Assert.True(list.Status == 200, list.Body.ToString());
        Assert.Equal(["has_more", "items", "page", "total"], list.Body.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(id, Assert.Single(list.Body.GetProperty("items").EnumerateArray()).Str("id"));
        Assert.Equal(1, list.Body.GetProperty("total").GetInt64());
        Assert.False(list.Body.GetProperty("has_more").GetBoolean());
        Assert.Empty((await reader.GetJsonAsync($"{Base}/api/v1/invoices?status=paid")).Body.GetProperty("items").EnumerateArray());

        var totals = await reader.GetJsonAsync($"{Base}/api/v1/invoices/totals");
        Assert.True(totals.Status == 200, totals.Body.ToString());
        Assert.Equal(100.00m, totals.Body.GetProperty("total_amount_usd").GetDecimal());
        Assert.Equal(0m, totals.Body.GetProperty("total_paid_usd").GetDecimal());
        Assert.Equal(100.00m, totals.Body.GetProperty("total_unpaid_usd").GetDecimal());
        Assert.Equal(0m, totals.Body.GetProperty("total_expired_usd").GetDecimal());
        var counts = totals.Body.GetProperty("invoice_count");
        Assert.Equal((1, 0, 1, 0), (counts.GetProperty("total").GetInt64(), counts.GetProperty("paid").GetInt64(), counts.GetProperty("unpaid").GetInt64(), counts.GetProperty("expired").GetInt64()));
    }

    [Fact]
    public async Task Expires_in_is_in_milliseconds_and_defaults_to_12_hours()
    {
        using var client = Pepay("ten-minutes");
        var tenMinutes = await client.PostJsonAsync(Base + "/api/v1/invoices", """{"amount_usd": 5.00, "expires_in": 600000}""");
        Assert.True(tenMinutes.Status == 200, tenMinutes.Body.ToString());
        Assert.Equal(TimeSpan.FromMinutes(10), tenMinutes.Body.GetProperty("expires_at").GetDateTimeOffset() - tenMinutes.Body.GetProperty("created_at").GetDateTimeOffset());
        using var other = Pepay("default");
        var byDefault = await other.PostJsonAsync(Base + "/api/v1/invoices", """{"amount_usd": 5.00}""");
        Assert.Equal(TimeSpan.FromHours(12), byDefault.Body.GetProperty("expires_at").GetDateTimeOffset() - byDefault.Body.GetProperty("created_at").GetDateTimeOffset());

        await Host.AdvanceAsync(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(1));
        using var reader = Pepay();
        Assert.Equal("expired", (await reader.GetJsonAsync($"{Base}/api/v1/invoices/{tenMinutes.Body.Str("id")}")).Body.Str("status"));
        Assert.Equal("unpaid", (await reader.GetJsonAsync($"{Base}/api/v1/invoices/{byDefault.Body.Str("id")}")).Body.Str("status"));
    }

    [Fact]
    public async Task Errors_carry_the_documents_codes()
    {
        using var noKey = Pepay();
        AssertError(await noKey.PostJsonAsync(Base + "/api/v1/invoices", CreateExample), 400, "IDEMPOTENCY_KEY_MISSING", "error", "code");
        using var client = Pepay("errors");
        AssertError(await client.PostJsonAsync(Base + "/api/v1/invoices", """{"amount_usd": "ten"}"""), 400, "INVALID_AMOUNT_FORMAT", "error", "code");
        using var small = Pepay("small");
        AssertError(await small.PostJsonAsync(Base + "/api/v1/invoices", """{"amount_usd": 0.001}"""), 400, "INVALID_AMOUNT_RANGE", "error", "code");
        using var cents = Pepay("cents");
        AssertError(await cents.PostJsonAsync(Base + "/api/v1/invoices", """{"amount_usd": 1.001}"""), 400, "INVALID_AMOUNT_FORMAT", "error", "code");
        using var zero = Pepay("zero");
        AssertError(await zero.PostJsonAsync(Base + "/api/v1/invoices", """{"amount_usd": 0}"""), 400, "INVALID_AMOUNT_RANGE", "error", "code");
        using var big = Pepay("big");
        AssertError(await big.PostJsonAsync(Base + "/api/v1/invoices", """{"amount_usd": 1000000.01}"""), 400, "INVALID_AMOUNT_RANGE", "error", "code");
        AssertError(await Host.Http.GetJsonAsync(Base + "/api/v1/invoices"), 401, "UNAUTHORIZED", "error", "code");
        AssertError(await noKey.GetJsonAsync($"{Base}/api/v1/invoices/inv_{Guid.NewGuid():N}"), 404, "NOT_FOUND", "error", "code");
        AssertError(await noKey.GetJsonAsync($"{Base}/api/v1/invoices?status=open"), 400, "VALIDATION_FAILED", "error", "code");
    }

    [Fact]
    public async Task A_key_gets_100_requests_a_minute()
    {
        using var client = Pepay();
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(200, (await client.GetJsonAsync(Base + "/api/v1/invoices/totals")).Status);
        }

        var limited = await client.GetJsonAsync(Base + "/api/v1/invoices/totals");
        AssertError(limited, 429, "RATE_LIMITED", "error", "code");
        Assert.True(limited.Response.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task A_paid_invoice_is_announced_by_a_signed_invoice_paid_webhook()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var v1 = Host.ClientWith(TestKey);
        var endpoint = await v1.PostJsonAsync("/v1/webhook-endpoints", $$"""{"url":"{{receiver.Url("/pepay")}}","format":"pepay"}""");
        Assert.True(endpoint.Status == 201, endpoint.Body.ToString());
        Assert.Equal("pepay", endpoint.Body.Str("format"));
        var secret = endpoint.Body.Str("secret");

        using var client = Pepay("flow");
        var id = (await client.PostJsonAsync(Base + "/api/v1/invoices", CreateExample)).Body.Str("id");
        await PayInSandboxAsync(Guid.ParseExact(id[4..], "N").ToString());

        var paid = Assert.Single(receiver.Received);
        var timestamp = paid.Headers["x-pepay-timestamp"];
        // Verified the document's way: HMAC SHA-256 over "{timestamp}.{body}" with the endpoint's secret.
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{paid.Body}")));
        Assert.Equal(expected, paid.Headers["x-pepay-signature"]);
        Assert.InRange(long.Parse(timestamp, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds());
        var body = JsonDocument.Parse(paid.Body).RootElement;
        Assert.Equal(["created", "data", "id", "type"], body.EnumerateObject().Select(p => p.Name).Order());
        Assert.StartsWith("evt_", body.Str("id"), StringComparison.Ordinal);
        Assert.Equal("invoice.paid", body.Str("type"));
        var data = body.GetProperty("data");
        Assert.Equal(id, data.Str("invoice_id"));
        Assert.Equal("paid", data.Str("status"));
        Assert.Equal(100.00m, data.GetProperty("amount_paid").GetDecimal());
        Assert.Equal("sandbox", data.Str("payment_network"));
        Assert.False(string.IsNullOrEmpty(data.Str("transaction_hash")));

        using var reader = Pepay();
        var got = await reader.GetJsonAsync($"{Base}/api/v1/invoices/{id}");
        Assert.Equal("paid", got.Body.Str("status"));
        Assert.NotEqual(JsonValueKind.Null, got.Body.GetProperty("paid_at").ValueKind);
        Assert.Equal(data.Str("transaction_hash"), got.Body.GetProperty("payment_details").Str("transaction_hash"));
        Assert.Equal(100.00m, (await reader.GetJsonAsync($"{Base}/api/v1/invoices/totals")).Body.GetProperty("total_paid_usd").GetDecimal());
    }

    [Fact]
    public async Task A_failing_receiver_gets_three_attempts()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        };
        using var v1 = Host.ClientWith(TestKey);
        Assert.Equal(201, (await v1.PostJsonAsync("/v1/webhook-endpoints", $$"""{"url":"{{receiver.Url()}}","format":"pepay"}""")).Status);
        using var client = Pepay("retries");
        var id = (await client.PostJsonAsync(Base + "/api/v1/invoices", """{"amount_usd": 5.00, "expires_in": 600000}""")).Body.Str("id");
        await Host.AdvanceAsync(TimeSpan.FromMinutes(11));
        for (var i = 0; i < 10; i++)
        {
            await Host.AdvanceAsync(TimeSpan.FromMinutes(10));
        }

        Assert.Equal(3, receiver.Received.Count);
        Assert.All(receiver.Received, r => Assert.Equal("invoice.expired", JsonDocument.Parse(r.Body).RootElement.Str("type")));
        var deliveries = await v1.GetJsonAsync("/v1/webhook-deliveries");
        var delivery = Assert.Single(deliveries.Body.GetProperty("data").EnumerateArray());
        Assert.Equal("failed", delivery.Str("status"));
        Assert.Equal(id, JsonDocument.Parse(receiver.Received.First().Body).RootElement.GetProperty("data").Str("invoice_id"));
    }
}
