using System.Globalization;
using System.Text.RegularExpressions;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Webhooks;
using CryptoPay.TestSupport.Processes;

namespace CryptoPay.Api.Tests.Operator;

/// <summary>/metrics: Prometheus text of the Microsoft.Orleans and CryptoPay meters, for the operator admin key only.</summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private GatewayHost host = null!;

    public async Task InitializeAsync() =>
        host = await GatewayHost.StartAsync(null, new Dictionary<string, string?> { ["Webhooks:AllowPrivateTargets"] = "true" });

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

    [Fact]
    public async Task Metrics_show_the_webhook_backlog_and_the_age_of_its_oldest_delivery()
    {
        var (_, _, testKey) = await host.CreateMerchantAsync();
        using var test = host.ClientWith(testKey);
        // Nothing listens on the endpoint's port: every attempt fails and the delivery waits for its next retry.
        var closed = $"http://127.0.0.1:{LoopbackPort.PickFree()}/hook";
        Assert.Equal(201, (await test.PostJsonAsync("/v1/webhook-endpoints", $$"""{"url":"{{closed}}","events":["invoice.created"]}""")).Status);
        Assert.Equal(201, (await test.PostJsonAsync("/v1/invoices", """{"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"]}""")).Status);
        await host.AdvanceAsync(TimeSpan.FromMinutes(10));
        await host.Grains.GetGrain<IWebhookLeaseSweeperGrain>(WebhookLeaseSweeperGrain.Key).Sweep();

        using var admin = host.ClientWith(GatewayHost.AdminKey);
        var text = await admin.GetStringAsync("/metrics");

        Assert.Equal(1, Sample(text, "cryptopay_webhooks_backlog"));
        Assert.InRange(Sample(text, "cryptopay_webhooks_oldest_pending_age_seconds"), 600, 601);
    }

    [Fact]
    public async Task Metrics_show_how_late_the_sweep_woke_invoices_after_their_wake_time()
    {
        var (_, _, testKey) = await host.CreateMerchantAsync();
        using var test = host.ClientWith(testKey);
        var id = (await test.PostJsonAsync("/v1/invoices", """{"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"],"expires_in":600}""")).Body.Str("id");

        // The expiry passes while no sweep runs (a silo paused, the database away): the next sweep wakes it 15 minutes late.
        host.Clock.Advance(TimeSpan.FromMinutes(25));
        await host.Grains.GetGrain<IInvoiceWakeSweeperGrain>(InvoiceWakeSweeperGrain.Key).Sweep();
        Assert.Equal("expired", (await test.GetJsonAsync($"/v1/invoices/{id}")).Body.Str("status"));
        using var admin = host.ClientWith(GatewayHost.AdminKey);
        var text = await admin.GetStringAsync("/metrics");

        // Other hosts of this test run share the meter's name, so their wakes may add to the series: this one at least.
        const string Series = "cryptopay_invoices_wake_lateness_seconds";
        Assert.InRange(Sample(text, Series + "_count"), 1, double.MaxValue);
        Assert.InRange(Sample(text, Series + "_sum"), 900, double.MaxValue);
        Assert.InRange(Sample(text, Series + "_bucket", "le=\"3600\"") - Sample(text, Series + "_bucket", "le=\"300\""), 1, double.MaxValue);
    }

    /// <summary>The value of a series of a Prometheus text scrape whose labels include <paramref name="label"/> (0 when there is none yet).</summary>
    private static double Sample(string scrape, string name, string? label = null)
    {
        var found = Regex.Matches(scrape, $@"(?m)^{Regex.Escape(name)}(\{{[^}}]*\}})? ([0-9.e+E-]+)")
            .FirstOrDefault(m => label is null || m.Groups[1].Value.Contains(label, StringComparison.Ordinal));
        return found is null ? 0 : double.Parse(found.Groups[2].Value, CultureInfo.InvariantCulture);
    }
}
