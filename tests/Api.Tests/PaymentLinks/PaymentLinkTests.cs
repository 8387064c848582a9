using System.Net;
using CryptoPay.Api.Tests.Hosting;
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

/// <summary>Payment links: merchant CRUD, and the public use rules (reusable, max_uses, expires_at, deactivated).</summary>
public abstract class PaymentLinkTests : IAsyncLifetime
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
        await host.AdvanceAsync(TimeSpan.FromHours(2));
        using var expired = await visitor.GetAsync($"/pay/l/{id}");
        Assert.Equal(HttpStatusCode.Gone, expired.StatusCode);
        Assert.Contains("expired", await expired.Content.ReadAsStringAsync(), StringComparison.Ordinal);

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

        var responses = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => visitor.GetAsync($"/pay/l/{id}")));
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.SeeOther));
        Assert.Equal(15, responses.Count(r => r.StatusCode == HttpStatusCode.Gone));
        foreach (var response in responses)
        {
            response.Dispose();
        }

        var invoices = (await merchant.GetJsonAsync("/v1/invoices")).Body.GetProperty("pagination").Str("total");
        Assert.Equal("1", invoices);
    }

    private async Task<string> OpenAsync(string linkId)
    {
        using var response = await visitor.GetAsync($"/pay/l/{linkId}");
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        var location = response.Headers.Location!.ToString();
        Assert.StartsWith("/pay/", location, StringComparison.Ordinal);
        using var page = await visitor.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        return location["/pay/".Length..];
    }
}
