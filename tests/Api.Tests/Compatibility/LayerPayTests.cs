using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Api.Tests.Compatibility;

public sealed class MemoryLayerPayTests : LayerPayTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresLayerPayTests(PostgresFixture postgres) : LayerPayTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>layerpay.txt replayed verbatim under /compat/layerpay, with only the base URL and the key changed.</summary>
public abstract class LayerPayTests : ProfileTestHost
{
    private const string Base = "/compat/layerpay";

    protected override string KeyFormat => KeyFormats.LayerPay;

    [Fact]
    public void Keys_are_business_id_dot_secret()
    {
        Assert.StartsWith(MerchantId + ".lp_live_", LiveKey, StringComparison.Ordinal);
        Assert.StartsWith(MerchantId + ".lp_test_", TestKey, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_documents_create_and_status_examples_answer_their_documented_shapes()
    {
        // Live invoices need a configured chain; the sandbox takes the same requests.
        using var client = Client(TestKey, "x-api-key");
        // curl -X POST https://layerpay.org/invoice/create -H "Content-Type: application/json" -H "x-api-key: …" -d '{…}'
        var created = await client.PostJsonAsync(Base + "/invoice/create", """
            {
                "amount": "100.00",
                "currency": "USD"
              }
            """);
        Assert.True(created.Status == 200, created.Body.ToString());
        Assert.Equal(["id"], created.Body.EnumerateObject().Select(p => p.Name));
        var id = Guid.Parse(created.Body.Str("id"));

        // curl https://layerpay.org/invoice/{id}/status (no key)
        var status = await Host.Http.GetJsonAsync($"{Base}/invoice/{id}/status");
        Assert.True(status.Status == 200, status.Body.ToString());
        Assert.Equal(["expires_at_ts", "id", "status"], status.Body.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(id.ToString(), status.Body.Str("id"));
        Assert.Equal("Pending", status.Body.Str("status"));
        Assert.Equal(Host.Clock.GetUtcNow().AddMinutes(30).ToUnixTimeSeconds(), status.Body.GetProperty("expires_at_ts").GetInt64());

        // The same invoice through /v1: objects are shared.
        using var v1 = Host.ClientWith(TestKey);
        var shared = await v1.GetJsonAsync($"/v1/invoices/{id}");
        Assert.Equal("100.00", shared.Body.Str("amount"));
        Assert.Equal("USD", shared.Body.Str("currency"));

        await Host.AdvanceAsync(TimeSpan.FromMinutes(31));
        Assert.Equal("Expired", (await Host.Http.GetJsonAsync($"{Base}/invoice/{id}/status")).Body.Str("status"));
    }

    [Fact]
    public async Task A_sandbox_invoice_confirms_once_a_network_is_picked_on_the_payment_page()
    {
        using var client = Client(TestKey, "x-api-key");
        var created = await client.PostJsonAsync(Base + "/invoice/create", """
            {
                "amount": "10.00",
                "currency": "USD"
              }
            """);
        var id = created.Body.Str("id");

        // Navigate to /payment?id={invoice_id}: the checkout page, told to pay itself once a method is shown.
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = Host.Http.BaseAddress };
        var page = await browser.GetAsync($"{Base}/payment?id={id}");
        Assert.Equal(System.Net.HttpStatusCode.Redirect, page.StatusCode);
        var html = await browser.GetStringAsync(page.Headers.Location);
        Assert.Contains("data-autopay=\"1\"", html, StringComparison.Ordinal);
        Assert.Equal("Pending", (await Host.Http.GetJsonAsync($"{Base}/invoice/{id}/status")).Body.Str("status"));

        // What the customer and the page's script then do: pick a network, the simulated payment, the sandbox's next block.
        await PayInSandboxAsync(id);
        Assert.Equal("Confirmed", (await Host.Http.GetJsonAsync($"{Base}/invoice/{id}/status")).Body.Str("status"));
    }

    [Fact]
    public async Task Only_a_sandbox_payment_page_pays_itself()
    {
        using var client = Client(TestKey, "x-api-key");
        var id = (await client.PostJsonAsync(Base + "/invoice/create", """{"amount": "10.00", "currency": "EUR"}""")).Body.Str("id");
        // The checkout page of the same invoice, reached without the payment link, waits for the customer's button.
        Assert.DoesNotContain("data-autopay", await Host.Http.GetStringAsync($"/pay/{id}"), StringComparison.Ordinal);
        Assert.Contains("data-autopay", await Host.Http.GetStringAsync($"/pay/{id}?autopay=1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sandbox_withdrawals_answer_400()
    {
        var key = await IssueKeyAsync("""{"mode":"test","format":"layerpay","scopes":["withdrawals:write"]}""");
        using var client = Client(key, "x-api-key");
        var refused = await client.PostJsonAsync(Base + "/withdrawal/create", """{"asset":"USDT","network":"tron","amount":"10","address":"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"}""");
        AssertError(refused, 400, "WITHDRAWALS_DISABLED_IN_SANDBOX", "error", "code");
    }

    [Fact]
    public async Task Errors_come_in_the_profiles_shape()
    {
        AssertError(await Host.Http.PostJsonAsync(Base + "/invoice/create", """{"amount":"1.00","currency":"USD"}"""), 401, "UNAUTHORIZED", "error", "code");
        using var client = Client(TestKey, "x-api-key");
        AssertError(await client.PostJsonAsync(Base + "/invoice/create", """{"amount":"abc","currency":"USD"}"""), 400, "INVALID_AMOUNT_FORMAT", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoice/create", """{"amount":"1.00","currency":"GBP"}"""), 400, "UNSUPPORTED_CURRENCY", "error", "code");
        AssertError(await client.PostJsonAsync(Base + "/invoice/create", """{"amount":"1.00","currency":"USD","description":"{{new string('x', 101)}}"}""".Replace("{{new string('x', 101)}}", new string('x', 101), StringComparison.Ordinal)),
            400, "VALIDATION_FAILED", "error", "code");
        AssertError(await Host.Http.GetJsonAsync($"{Base}/invoice/{Guid.NewGuid()}/status"), 404, "NOT_FOUND", "error", "code");
        AssertError(await Host.Http.GetJsonAsync($"{Base}/no/such/path"), 404, "NOT_FOUND", "error", "code");
    }
}
