using CryptoPay.Api.Tests.Hosting;

namespace CryptoPay.Api.Tests.Operator;

/// <summary>/metrics: Prometheus text of the Microsoft.Orleans and CryptoPay meters, for the operator admin key only.</summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private GatewayHost host = null!;

    public async Task InitializeAsync() => host = await GatewayHost.StartAsync(null);

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Metrics_need_the_admin_key_and_show_Orleans_and_the_gateway_counters()
    {
        HttpJson.AssertProblem(await host.Http.GetJsonAsync("/metrics"), 401, "UNAUTHORIZED");
        HttpJson.AssertProblem(await host.ClientWith("not-the-admin-key").GetJsonAsync("/metrics"), 401, "UNAUTHORIZED");

        var (_, _, testKey) = await host.CreateMerchantAsync();
        using var test = host.ClientWith(testKey);
        var id = (await test.PostJsonAsync("/v1/invoices", """{"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"]}""")).Body.Str("id");
        Assert.Equal(200, (await test.PostJsonAsync($"/v1/sandbox/invoices/{id}/pay", "{}")).Status);
        await host.AdvanceAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("confirmed", (await test.GetJsonAsync($"/v1/invoices/{id}")).Body.Str("status"));

        using var admin = host.ClientWith(GatewayHost.AdminKey);
        using var scraped = await admin.GetAsync("/metrics");
        var text = await scraped.Content.ReadAsStringAsync();

        Assert.True(scraped.IsSuccessStatusCode, $"{(int)scraped.StatusCode} {text}");
        Assert.Equal("text/plain", scraped.Content.Headers.ContentType?.MediaType);
        Assert.Matches(@"(?m)^cryptopay_invoices_created_total\{[^}]*mode=""test""[^}]*\} [1-9]", text);
        Assert.Matches(@"(?m)^cryptopay_deposits_credited_total\{[^}]*mode=""test""[^}]*\} [1-9]", text);
        Assert.Matches(@"(?m)^orleans_\w+", text);
    }
}
