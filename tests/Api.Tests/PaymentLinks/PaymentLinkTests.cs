using System.Net;
using System.Text.RegularExpressions;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.PaymentLinks;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Api.Tests.PaymentLinks;

public sealed class MemoryPaymentLinkTests : PaymentLinkTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresPaymentLinkTests(PostgresFixture postgres) : PaymentLinkTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>
/// Payment links: merchant CRUD, and the public use rules (reusable, max_uses, expires_at, deactivated). Opening a link (GET)
/// only shows it; its form's POST, carrying the attempt token of that rendering, uses it and opens the invoice.
/// </summary>
public abstract partial class PaymentLinkTests : IAsyncLifetime
{
    private GatewayHost host = null!;
    private HttpClient visitor = null!;

    protected abstract Task<string?> CreateDatabaseAsync();

    public async Task InitializeAsync()
    {
        host = await GatewayHost.StartAsync(await CreateDatabaseAsync());
        visitor = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.Http.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        visitor.Dispose();
        await host.DisposeAsync();
    }

    [Fact]
    public async Task Links_are_created_read_listed_and_deactivated_by_their_merchant_only()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        var (_, _, otherKey) = await host.CreateMerchantAsync("""{"name":"Other"}""");
        using var merchant = host.ClientWith(key);
        using var other = host.ClientWith(otherKey);

        var created = await merchant.PostJsonAsync("/v1/payment-links", """{"amount":"12.5","currency":"USD","description":"T-shirt","reusable":true,"max_uses":3}""");
        Assert.Equal(201, created.Status);
        var id = created.Body.Str("id");
        Assert.Equal(($"{host.Http.BaseAddress!.ToString().TrimEnd('/')}/pay/l/{id}", "12.50", "3", "True"),
            (created.Body.Str("url"), created.Body.Str("amount"), created.Body.Str("max_uses"), created.Body.Str("active")));

        Assert.Equal(200, (await merchant.GetJsonAsync($"/v1/payment-links/{id}")).Status);
        Assert.Equal(404, (await other.GetJsonAsync($"/v1/payment-links/{id}")).Status);
        Assert.Equal(404, (await other.SendJsonAsync(HttpMethod.Delete, $"/v1/payment-links/{id}")).Status);
        Assert.Equal(id, (await merchant.GetJsonAsync("/v1/payment-links")).Body.GetProperty("items")[0].Str("id"));
        Assert.Equal(0, (await other.GetJsonAsync("/v1/payment-links")).Body.GetProperty("items").GetArrayLength());

        var deleted = await merchant.SendJsonAsync(HttpMethod.Delete, $"/v1/payment-links/{id}");
        Assert.Equal((200, "False"), (deleted.Status, deleted.Body.Str("active")));
        using var refused = await visitor.GetAsync($"/pay/l/{id}");
        Assert.Equal(HttpStatusCode.Gone, refused.StatusCode);
        Assert.Contains("deactivated", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_link_created_by_an_attempt_whose_silo_died_is_the_one_its_retry_gets()
    {
        var (merchantId, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        const string body = """{"amount":"12.5","currency":"USD","description":"T-shirt"}""";
        // The attempt got as far as creating its link, under the id its key derives, before its silo died.
        var id = DerivedIds.ForIdempotencyKey("payment-link", Guid.Parse(merchantId), Mode.Test, "link-died", 0);
        await host.LeaveDiedAttemptAsync(GatewayHost.TestScope(merchantId), "/v1/payment-links", body, "link-died");
        await host.Grains.GetGrain<IPaymentLinkGrain>(id).Create(new PaymentLinkSpec(Guid.Parse(merchantId), Mode.Test, 12.5m, "USD", "T-shirt", false, 1, null));
        await host.AdvanceAsync(CryptoPay.Grains.Idempotency.IdempotencyGrain.InProgressLease);

        var retried = await merchant.PostJsonAsync("/v1/payment-links", body, r => r.Headers.Add("Idempotency-Key", "link-died"));

        Assert.True(retried.Status == 201, retried.Body.ToString());
        Assert.Equal(id, Guid.Parse(retried.Body.Str("id")));
        Assert.Equal(1, (await merchant.GetJsonAsync("/v1/payment-links")).Body.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData("""{"currency":"USD"}""")]
    [InlineData("""{"amount":"-1","currency":"USD"}""")]
    [InlineData("""{"amount":"1","currency":"XXX"}""")]
    [InlineData("""{"amount":"1","currency":"USD","reusable":false,"max_uses":2}""")]
    [InlineData("""{"amount":"1","currency":"USD","expires_at":"2000-01-01"}""")]
    public async Task Invalid_links_are_refused_with_a_code(string body)
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var response = await merchant.PostJsonAsync("/v1/payment-links", body);
        Assert.InRange(response.Status, 400, 422);
        Assert.False(string.IsNullOrEmpty(response.Body.Str("code")));
    }

    [Fact]
    public async Task A_reusable_link_opens_a_fresh_invoice_each_time_until_max_uses()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var id = (await merchant.PostJsonAsync("/v1/payment-links", """{"amount":"7","currency":"USD","reusable":true,"max_uses":2}""")).Body.Str("id");

        var first = await OpenAsync(id);
        var second = await OpenAsync(id);
        Assert.NotEqual(first, second);
        var invoice = (await merchant.GetJsonAsync($"/v1/invoices/{first}")).Body;
        Assert.Equal(("7.00", "USD"), (invoice.Str("amount"), invoice.Str("currency")));
        using var third = await visitor.GetAsync($"/pay/l/{id}");
        Assert.Equal(HttpStatusCode.Gone, third.StatusCode);
        Assert.Equal("2", (await merchant.GetJsonAsync($"/v1/payment-links/{id}")).Body.Str("uses"));
    }

    [Fact]
    public async Task Expired_and_unknown_links_are_refused_with_a_page()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var expires = (host.Clock.GetUtcNow() + TimeSpan.FromHours(1)).ToString("O");
        var id = (await merchant.PostJsonAsync("/v1/payment-links", $$"""{"amount":"7","currency":"USD","reusable":true,"expires_at":"{{expires}}"}""")).Body.Str("id");
        await OpenAsync(id);
        var rendered = await AttemptAsync(id);
        await host.AdvanceAsync(TimeSpan.FromHours(2));
        using var expired = await visitor.GetAsync($"/pay/l/{id}");
        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);
        Assert.Contains("expired", await expired.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // A page rendered before the link expired cannot use it after.
        using var late = await PayAsync(id, rendered);
        Assert.Equal(HttpStatusCode.Gone, late.StatusCode);
        Assert.Contains("expired", await late.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var unknown = await visitor.GetAsync($"/pay/l/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.StartsWith("text/html", unknown.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_uses_of_a_single_use_link_open_exactly_one_invoice()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var id = (await merchant.PostJsonAsync("/v1/payment-links", """{"amount":"3","currency":"USD"}""")).Body.Str("id");
        var attempts = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => AttemptAsync(id)));

        var responses = await Task.WhenAll(attempts.Select(attempt => PayAsync(id, attempt)));
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.SeeOther));
        Assert.Equal(15, responses.Count(r => r.StatusCode == HttpStatusCode.Gone));
        foreach (var response in responses)
        {
            response.Dispose();
        }

        Assert.Equal("1", await InvoiceCountAsync(merchant));
    }

    [Fact]
    public async Task Previews_of_a_single_use_link_leave_it_usable_and_its_form_opens_one_invoice_however_often_it_is_sent()
    {
        var (_, _, key) = await host.CreateMerchantAsync("""{"name":"Mug & Co"}""");
        using var merchant = host.ClientWith(key);
        var id = (await merchant.PostJsonAsync("/v1/payment-links", """{"amount":"12.5","currency":"USD","description":"Blue <mug>"}""")).Body.Str("id");

        // A chat app's link preview, then the customer: GETs change nothing.
        using (var preview = await visitor.GetAsync($"/pay/l/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
            Assert.Equal("no-store", preview.Headers.CacheControl?.ToString());
            var html = await preview.Content.ReadAsStringAsync();
            Assert.Contains("12.50 USD", html, StringComparison.Ordinal);
            Assert.Contains("Blue &lt;mug&gt;", html, StringComparison.Ordinal);
            Assert.Contains("Mug &amp; Co", html, StringComparison.Ordinal);
            Assert.Contains($"<form method=\"post\" action=\"/pay/l/{id}\"", html, StringComparison.Ordinal);
        }

        var attempt = await AttemptAsync(id);
        Assert.NotEqual(attempt, await AttemptAsync(id));
        Assert.Equal("0", await InvoiceCountAsync(merchant));
        Assert.Equal(("0", "True"), await UsesAsync(merchant, id));

        var invoiceId = await PayForInvoiceAsync(id, attempt);
        // A double click or a retried form reaches the same invoice.
        Assert.Equal(invoiceId, await PayForInvoiceAsync(id, attempt));
        using var other = await PayAsync(id, await StaleAttemptAsync());
        Assert.Equal(HttpStatusCode.Gone, other.StatusCode);
        Assert.StartsWith("text/html", other.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        Assert.Contains("already been used", await other.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var used = await visitor.GetAsync($"/pay/l/{id}");
        Assert.Equal(HttpStatusCode.Gone, used.StatusCode);
        Assert.Contains("already been used", await used.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal("1", await InvoiceCountAsync(merchant));
        Assert.Equal("1", (await UsesAsync(merchant, id)).Uses);
        var invoice = (await merchant.GetJsonAsync($"/v1/invoices/{invoiceId}")).Body;
        Assert.Equal(("12.50", "USD", "Blue <mug>"), (invoice.Str("amount"), invoice.Str("currency"), invoice.Str("description")));
    }

    [Fact]
    public async Task Gets_of_a_reusable_link_open_no_invoice_and_each_sent_form_opens_one()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var id = (await merchant.PostJsonAsync("/v1/payment-links", """{"amount":"7","currency":"USD","reusable":true}""")).Body.Str("id");

        var attempts = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            attempts.Add(await AttemptAsync(id));
        }

        Assert.Equal("0", await InvoiceCountAsync(merchant));
        var first = await PayForInvoiceAsync(id, attempts[0]);
        var second = await PayForInvoiceAsync(id, attempts[1]);
        Assert.NotEqual(first, second);
        Assert.Equal(first, await PayForInvoiceAsync(id, attempts[0]));
        Assert.Equal("2", await InvoiceCountAsync(merchant));
        Assert.Equal("2", (await UsesAsync(merchant, id)).Uses);
    }

    [Fact]
    public async Task A_form_without_its_attempt_or_not_sent_as_a_form_is_refused_with_a_page_and_uses_nothing()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var id = (await merchant.PostJsonAsync("/v1/payment-links", """{"amount":"3","currency":"USD"}""")).Body.Str("id");

        using var missing = await visitor.PostAsync($"/pay/l/{id}", new FormUrlEncodedContent([]));
        using var malformed = await visitor.PostAsync($"/pay/l/{id}", new FormUrlEncodedContent([new("attempt", "x\u0000<script>")]));
        using var json = await visitor.PostAsync($"/pay/l/{id}", new StringContent($$"""{"attempt":"{{await AttemptAsync(id)}}"}""", System.Text.Encoding.UTF8, "application/json"));
        using var unknown = await PayAsync(Guid.NewGuid().ToString(), await AttemptAsync(id));
        using var notAnId = await PayAsync("not-an-id", await AttemptAsync(id));
        Assert.Equal(
            [HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.UnsupportedMediaType, HttpStatusCode.NotFound, HttpStatusCode.NotFound],
            new[] { missing, malformed, json, unknown, notAnId }.Select(r => r.StatusCode));
        Assert.All(new[] { missing, malformed, json, unknown, notAnId },
            r => Assert.StartsWith("text/html", r.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal));
        Assert.Equal(("0", "True"), await UsesAsync(merchant, id));
        Assert.Equal("0", await InvoiceCountAsync(merchant));
    }

    /// <summary>Opens the link as a customer: its page, then its form sent; returns the invoice id the checkout page shows.</summary>
    private async Task<string> OpenAsync(string linkId)
    {
        var invoiceId = await PayForInvoiceAsync(linkId, await AttemptAsync(linkId));
        using var page = await visitor.GetAsync($"/pay/{invoiceId}");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return invoiceId;
    }

    /// <summary>The attempt token the link's page put in its form.</summary>
    private async Task<string> AttemptAsync(string linkId)
    {
        using var page = await visitor.GetAsync($"/pay/l/{linkId}");
        var html = await page.Content.ReadAsStringAsync();
        Assert.True(page.StatusCode == HttpStatusCode.OK, html);
        return AttemptField().Match(html) is { Success: true } match ? match.Groups[1].Value : throw new Xunit.Sdk.XunitException($"No attempt field in {html}");
    }

    /// <summary>A well-formed attempt token no page of this link rendered (another browser's, say).</summary>
    private static Task<string> StaleAttemptAsync() => Task.FromResult(Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));

    private Task<HttpResponseMessage> PayAsync(string linkId, string attempt) =>
        visitor.PostAsync($"/pay/l/{linkId}", new FormUrlEncodedContent([new("attempt", attempt)]));

    private async Task<string> PayForInvoiceAsync(string linkId, string attempt)
    {
        using var response = await PayAsync(linkId, attempt);
        Assert.True(response.StatusCode == HttpStatusCode.SeeOther, await response.Content.ReadAsStringAsync());
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith("/pay/", location, StringComparison.Ordinal);
        return location["/pay/".Length..];
    }

    private static async Task<string> InvoiceCountAsync(HttpClient merchant) =>
        (await merchant.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").Str("total");

    private static async Task<(string Uses, string Active)> UsesAsync(HttpClient merchant, string linkId)
    {
        var link = (await merchant.GetJsonAsync($"/v1/payment-links/{linkId}")).Body;
        return (link.Str("uses"), link.Str("active"));
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"attempt\" value=\"([^\"]+)\"")]
    private static partial Regex AttemptField();
}
