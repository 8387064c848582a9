using System.Net;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Api.Tests.Checkout;

public sealed class MemoryCheckoutPageTests : CheckoutPageTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresCheckoutPageTests(PostgresFixture postgres) : CheckoutPageTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>The hosted checkout page over real HTTP: what it shows, what it never shows, and its headers.</summary>
public abstract class CheckoutPageTests : IAsyncLifetime
{
    private const string PrivateInvoice = """
        {"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"],"description":"Blue <b>mug</b>",
         "order_id":"order-secret-77","customer_email":"alice@example.com","customer_id":"cust-secret-9",
         "metadata":{"internal_note":"vip-secret"},"callback_url":"https://merchant.example/hook-secret"}
        """;

    private GatewayHost host = null!;

    protected abstract Task<string?> CreateDatabaseAsync();

    public async Task InitializeAsync() => host = await GatewayHost.StartAsync(await CreateDatabaseAsync());

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task The_page_shows_amounts_address_and_qr_and_never_private_data()
    {
        var (_, _, key) = await host.CreateMerchantAsync("""{"name":"Mug & Co"}""");
        using var merchant = host.ClientWith(key);
        var invoice = (await merchant.PostJsonAsync("/v1/invoices", PrivateInvoice)).Body;
        var method = invoice.GetProperty("payment_methods")[0];

        using var response = await host.Http.GetAsync($"/pay/{invoice.Str("id")}");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Contains("Mug &amp; Co", html, StringComparison.Ordinal);
        Assert.Contains("25.50 USD", html, StringComparison.Ordinal);
        Assert.Contains(method.Str("amount"), html, StringComparison.Ordinal);
        Assert.Contains(method.Str("address"), html, StringComparison.Ordinal);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains(System.Text.Encodings.Web.HtmlEncoder.Default.Encode(method.Str("payment_uri")), html, StringComparison.Ordinal);
        Assert.Contains("TEST MODE", html, StringComparison.Ordinal);
        Assert.Contains("id=\"simulate\"", html, StringComparison.Ordinal);
        Assert.Contains("aria-live=\"polite\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>mug</b>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        foreach (var secret in new[] { "order-secret-77", "alice@example.com", "cust-secret-9", "vip-secret", "internal_note", "hook-secret" })
        {
            Assert.DoesNotContain(secret, html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_page_and_its_assets_carry_strict_security_headers()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var id = (await merchant.PostJsonAsync("/v1/invoices", """{"amount":"5","currency":"USD","payment_methods":["btc_sandbox"]}""")).Body.Str("id");

        foreach (var path in new[] { $"/pay/{id}", "/pay/assets/checkout.js", "/pay/assets/checkout.css", $"/pay/{Guid.NewGuid()}" })
        {
            using var response = await host.Http.GetAsync(path);
            var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        }
    }

    [Fact]
    public async Task Unknown_and_malformed_ids_get_a_friendly_404_page()
    {
        foreach (var id in new[] { Guid.NewGuid().ToString(), "not-a-guid", "%3Cscript%3E" })
        {
            using var response = await host.Http.GetAsync($"/pay/{id}");
            var html = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Contains("Invoice not found", html, StringComparison.Ordinal);
            Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Simulating_from_the_page_pays_a_test_invoice_without_a_key_and_choosing_a_method_shows_its_address()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var invoice = (await merchant.PostJsonAsync("/v1/invoices", """{"amount":"10","currency":"USD","payment_methods":["btc_sandbox","usdt_sandbox"]}""")).Body;
        var id = invoice.Str("id");
        var usdt = invoice.GetProperty("payment_methods").EnumerateArray().Single(m => m.Str("method") == "usdt_sandbox");

        var choice = await host.Http.PostJsonAsync($"/v1/invoices/{id}/payment-method", """{"method":"usdt_sandbox"}""");
        Assert.Equal((200, usdt.Str("address")), (choice.Status, choice.Body.Str("address")));
        Assert.InRange((await host.Http.PostJsonAsync($"/v1/invoices/{id}/payment-method", """{"method":"eth_sandbox"}""")).Status, 400, 422);
        var page = await host.Http.GetStringAsync($"/pay/{id}?method=usdt_sandbox");
        Assert.Contains(usdt.Str("address"), page, StringComparison.Ordinal);

        var paid = await host.Http.PostJsonAsync($"/pay/{id}/simulate", """{"method":"usdt_sandbox"}""");
        Assert.Equal((200, "confirming"), (paid.Status, paid.Body.Str("status")));
        await host.AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("confirmed", (await host.Http.GetJsonAsync($"/v1/invoices/{id}/status")).Body.Str("status"));
    }
}
