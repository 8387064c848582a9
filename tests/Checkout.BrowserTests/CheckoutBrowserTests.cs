using CryptoPay.Api.Tests.Hosting;
using Microsoft.Playwright;

namespace CryptoPay.Checkout.BrowserTests;

/// <summary>The checkout page in a real headless chromium against the real gateway on a loopback port with a fake clock.</summary>
public sealed class CheckoutBrowserTests : IAsyncLifetime
{
    private readonly Browser browser = new();
    private GatewayHost host = null!;

    public async Task InitializeAsync()
    {
        host = await GatewayHost.StartAsync(null);
        await browser.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await browser.DisposeAsync();
        await host.DisposeAsync();
    }

    [Fact]
    public async Task A_test_invoice_shows_amount_address_and_a_qr_of_its_uri_then_pays_live_and_redirects()
    {
        var (_, _, key) = await host.CreateMerchantAsync("""{"name":"Mug & Co"}""");
        using var merchant = host.ClientWith(key);
        var redirect = $"{host.Http.BaseAddress!.ToString().TrimEnd('/')}/docs";
        var invoice = (await merchant.PostJsonAsync("/v1/invoices", $$"""{"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"],"redirect_url":"{{redirect}}"}""")).Body;
        var method = invoice.GetProperty("payment_methods")[0];
        var page = await browser.Context.NewPageAsync();
        await page.GotoAsync(invoice.Str("checkout_url"));

        Assert.Equal("25.50 USD", await page.InnerTextAsync("#fiat-amount"));
        Assert.Equal(method.Str("amount"), await page.InnerTextAsync("#crypto-amount"));
        Assert.Equal(method.Str("address"), await page.InnerTextAsync("#address"));
        Assert.Contains("TEST MODE", await page.InnerTextAsync(".test-banner"), StringComparison.Ordinal);
        Assert.Equal(method.Str("payment_uri"), await DecodeQrAsync(page));
        await Browser.ScreenshotsAsync(page, "waiting");

        await page.Keyboard.PressAsync("Tab");
        await page.FocusAsync("#simulate");
        await page.Keyboard.PressAsync("Enter");
        await WaitForStatusAsync(page, "Payment received: 0 of 1 confirmations.");
        await MineUntilConfirmedAsync(page);

        await WaitForStatusAsync(page, "Paid. Thank you!");
        await Browser.ScreenshotsAsync(page, "paid");
        await page.WaitForURLAsync(redirect, new PageWaitForURLOptions { Timeout = 15_000 });
    }

    [Fact]
    public async Task An_expired_invoice_and_an_under_paid_one_say_so()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var expired = (await merchant.PostJsonAsync("/v1/invoices", """{"amount":"5","currency":"USD","payment_methods":["usdt_sandbox"],"expires_in":60}""")).Body;
        var under = (await merchant.PostJsonAsync("/v1/invoices", """{"amount":"10","currency":"USD","payment_methods":["usdt_sandbox"],"expires_in":60}""")).Body;
        Assert.Equal(200, (await merchant.PostJsonAsync($"/v1/sandbox/invoices/{under.Str("id")}/pay", """{"amount":"4"}""")).Status);
        await host.AdvanceAsync(TimeSpan.FromSeconds(61));

        var page = await browser.Context.NewPageAsync();
        await page.GotoAsync(expired.Str("checkout_url"));
        Assert.StartsWith("Expired", await page.InnerTextAsync("#status"), StringComparison.Ordinal);
        await page.GotoAsync(under.Str("checkout_url"));
        Assert.Contains("remaining 6.000000 USDT", await page.InnerTextAsync("#status"), StringComparison.Ordinal);
        await Browser.ScreenshotsAsync(page, "under-paid");
    }

    [Fact]
    public async Task An_ether_amount_reads_rounded_up_and_copies_exactly()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var invoice = (await merchant.PostJsonAsync("/v1/invoices", """{"amount":"25","currency":"USD","payment_methods":["eth_sandbox"]}""")).Body;
        var method = invoice.GetProperty("payment_methods")[0];
        Assert.Equal("0.008333333333333334", method.Str("amount"));
        var page = await browser.Context.NewPageAsync();
        await page.GotoAsync(invoice.Str("checkout_url"));

        Assert.Equal("0.0083333334", await page.InnerTextAsync("#crypto-amount"));
        Assert.Equal(method.Str("amount"), await page.InnerTextAsync("#exact-amount"));
        Assert.Equal(method.Str("payment_uri"), await DecodeQrAsync(page));
        await page.ClickAsync("button[aria-label='Copy amount']");
        await page.WaitForFunctionAsync("t => document.getElementById('copied').textContent === t", "Copied " + method.Str("amount"), new PageWaitForFunctionOptions { Timeout = 15_000 });
        await Browser.ScreenshotsAsync(page, "ether-amount");
    }

    [Fact]
    public async Task A_LayerPay_sandbox_payment_page_confirms_once_a_network_is_picked()
    {
        var (_, _, key) = await host.CreateMerchantAsync("""{"name":"Shop","key_format":"layerpay"}""");
        using var merchant = new HttpClient { BaseAddress = host.Http.BaseAddress };
        merchant.DefaultRequestHeaders.Add("x-api-key", key);
        var id = (await merchant.PostJsonAsync("/compat/layerpay/invoice/create", """{"amount": "10.00", "currency": "USD"}""")).Body.Str("id");
        var page = await browser.Context.NewPageAsync();
        await page.GotoAsync($"{host.Http.BaseAddress!.ToString().TrimEnd('/')}/compat/layerpay/payment?id={id}");
        Assert.Equal(0, await page.Locator("#address").CountAsync());
        Assert.Equal("Pending", (await host.Http.GetJsonAsync($"/compat/layerpay/invoice/{id}/status")).Body.Str("status"));

        // "Select any network and token — status changes to Confirmed automatically."
        await page.ClickAsync("button[value=usdt_sandbox]");
        await WaitForStatusAsync(page, "Payment received: 0 of 1 confirmations.");
        await MineUntilConfirmedAsync(page);

        Assert.Equal("Confirmed", (await host.Http.GetJsonAsync($"/compat/layerpay/invoice/{id}/status")).Body.Str("status"));
    }

    [Fact]
    public async Task Choosing_one_of_several_methods_shows_its_address()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var invoice = (await merchant.PostJsonAsync("/v1/invoices", """{"amount":"10","currency":"USD","payment_methods":["btc_sandbox","usdt_sandbox"]}""")).Body;
        var btc = invoice.GetProperty("payment_methods").EnumerateArray().Single(m => m.Str("method") == "btc_sandbox");
        var page = await browser.Context.NewPageAsync();
        await page.GotoAsync(invoice.Str("checkout_url"));
        Assert.Equal(0, await page.Locator("#address").CountAsync());
        await Browser.ScreenshotsAsync(page, "choose-method");

        await page.ClickAsync("button[value=btc_sandbox]");
        await page.WaitForSelectorAsync("#address");
        Assert.Equal(btc.Str("address"), await page.InnerTextAsync("#address"));
        Assert.Equal(btc.Str("payment_uri"), await DecodeQrAsync(page));
    }

    [Fact]
    public async Task A_reusable_link_opens_twice_and_a_single_use_link_once_and_showing_a_link_uses_nothing()
    {
        var (_, _, key) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(key);
        var reusable = (await merchant.PostJsonAsync("/v1/payment-links", """{"amount":"9","currency":"USD","reusable":true}""")).Body.Str("url");
        var single = (await merchant.PostJsonAsync("/v1/payment-links", """{"amount":"9","currency":"USD"}""")).Body.Str("url");
        var page = await browser.Context.NewPageAsync();

        var shown = await page.GotoAsync(reusable);
        Assert.Equal(200, shown!.Status);
        Assert.Equal("9.00 USD", await page.InnerTextAsync("#link-amount"));
        await Browser.ScreenshotsAsync(page, "link");
        var firstUrl = await PayAsync(page);
        await page.GotoAsync(reusable);
        var secondUrl = await PayAsync(page);
        Assert.NotEqual(firstUrl, secondUrl);
        Assert.Equal("9.00 USD", await page.InnerTextAsync("#fiat-amount"));

        // Shown twice (a chat app's preview, then the customer) and in a second tab: still unused.
        Assert.Equal(200, (await page.GotoAsync(single))!.Status);
        var otherTab = await browser.Context.NewPageAsync();
        Assert.Equal(200, (await otherTab.GotoAsync(single))!.Status);
        Assert.Equal(200, (await page.GotoAsync(single))!.Status);
        await PayAsync(page);
        var refused = await otherTab.RunAndWaitForResponseAsync(() => otherTab.ClickAsync("#pay"), r => r.Request.Method == "POST");
        Assert.Equal(410, refused.Status);
        await otherTab.WaitForLoadStateAsync();
        Assert.Contains("already been used", await otherTab.InnerTextAsync("main"), StringComparison.Ordinal);
        await Browser.ScreenshotsAsync(otherTab, "link-used");
        Assert.Equal(410, (await page.GotoAsync(single))!.Status);
    }

    /// <summary>Presses the link page's Pay button; returns the URL of the checkout page it leads to.</summary>
    private static async Task<string> PayAsync(IPage page)
    {
        await page.ClickAsync("#pay");
        await page.WaitForSelectorAsync("#checkout", new PageWaitForSelectorOptions { Timeout = 15_000 });
        Assert.DoesNotContain("/pay/l/", page.Url, StringComparison.Ordinal);
        return page.Url;
    }

    /// <summary>Each advance lets the sandbox mine; the page reports the confirmation through its live stream.</summary>
    private async Task MineUntilConfirmedAsync(IPage page)
    {
        for (var i = 0; i < 20; i++)
        {
            await host.AdvanceAsync(TimeSpan.FromSeconds(5));
            try
            {
                await page.WaitForSelectorAsync("#checkout[data-status='confirmed']", new PageWaitForSelectorOptions { Timeout = 1_000 });
                return;
            }
            catch (TimeoutException) when (i < 19)
            {
            }
        }
    }

    private static async Task WaitForStatusAsync(IPage page, string text) =>
        await page.WaitForFunctionAsync("t => document.getElementById('status').textContent === t", text, new PageWaitForFunctionOptions { Timeout = 15_000 });

    /// <summary>Renders the page's QR SVG onto a canvas and decodes it with jsQR.</summary>
    private static async Task<string?> DecodeQrAsync(IPage page)
    {
        await page.AddScriptTagAsync(new PageAddScriptTagOptions { Path = Browser.JsQrPath });
        return await page.EvaluateAsync<string?>("""
            async () => {
              const svg = document.querySelector('#qr svg');
              const image = new Image();
              image.src = 'data:image/svg+xml;base64,' + btoa(new XMLSerializer().serializeToString(svg));
              await image.decode();
              const canvas = document.createElement('canvas');
              canvas.width = 400; canvas.height = 400;
              const context = canvas.getContext('2d');
              context.fillStyle = '#fff'; context.fillRect(0, 0, 400, 400);
              context.drawImage(image, 0, 0, 400, 400);
              const code = jsQR(context.getImageData(0, 0, 400, 400).data, 400, 400);
              return code ? code.data : null;
            }
            """);
    }
}
