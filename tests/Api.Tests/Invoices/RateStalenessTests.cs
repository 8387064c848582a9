using CryptoPay.Api.Tests.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace CryptoPay.Api.Tests.Invoices;

/// <summary>The HTTP rate provider: rates are fetched and stored on the invoice; once stale only fiat pricing stops.</summary>
public sealed class RateStalenessTests : IAsyncLifetime
{
    private WebApplication rates = null!;
    private GatewayHost host = null!;
    private volatile bool failing;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        rates = builder.Build();
        rates.MapGet("/rates", () => failing ? Results.StatusCode(500) : Results.Text("""{"rates":{"BTC":"50000","EUR":"1.25","USDT":"1"}}""", "application/json"));
        await rates.StartAsync();
        host = await GatewayHost.StartAsync(null, new Dictionary<string, string?>
        {
            ["Rates:Source"] = "http",
            ["Rates:Url"] = rates.Urls.First() + "/rates",
            ["Rates:CacheFor"] = "00:00:10",
            ["Rates:MaxAge"] = "00:01:00",
        });
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await rates.DisposeAsync();
    }

    [Fact]
    public async Task Fiat_invoices_lock_the_fetched_rate_and_get_503_once_rates_are_stale_while_crypto_invoices_still_work()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var client = host.ClientWith(key);
        var invoice = await client.PostJsonAsync("/v1/invoices", """{"amount":"100","currency":"EUR","payment_methods":["btc_sandbox"]}""");
        var method = invoice.Body.GetProperty("payment_methods")[0];
        Assert.Equal(("40000", "0.00250000", "250000"), (method.Str("rate"), method.Str("amount"), method.Str("amount_units")));

        failing = true;
        await host.AdvanceAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(201, (await client.PostJsonAsync("/v1/invoices", """{"amount":"100","currency":"EUR","payment_methods":["btc_sandbox"]}""")).Status);

        await host.AdvanceAsync(TimeSpan.FromSeconds(31));
        var stale = await client.PostJsonAsync("/v1/invoices", """{"amount":"100","currency":"EUR","payment_methods":["btc_sandbox"]}""");
        Assert.Equal((503, "RATES_UNAVAILABLE"), (stale.Status, stale.Body.Str("code")));
        var crypto = await client.PostJsonAsync("/v1/invoices", """{"amount":"0.01","currency":"BTC"}""");
        Assert.True(crypto.Status == 201, crypto.Body.ToString());
        Assert.True((await client.GetJsonAsync("/v1/rates")).Body.GetProperty("stale").GetBoolean());

        failing = false;
        await host.AdvanceAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(201, (await client.PostJsonAsync("/v1/invoices", """{"amount":"100","currency":"EUR","payment_methods":["btc_sandbox"]}""")).Status);
    }
}
