using System.Text.Encodings.Web;
using CryptoPay.Api.Checkout;
using CryptoPay.Api.Tests.Hosting;

namespace CryptoPay.Api.Tests.Checkout;

/// <summary>
/// The checkout page shows crypto amounts to at most eight significant digits, rounded up so the figure shown is never
/// less than what is due; the copy button and the payment URI carry the exact amount.
/// </summary>
public sealed class CheckoutAmountDisplayTests : IAsyncLifetime
{
    private GatewayHost host = null!;

    public async Task InitializeAsync() => host = await GatewayHost.StartAsync(null);

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Theory]
    [InlineData("0.008333333333333334", 18, "0.0083333334")]
    [InlineData("0.008333333300000000", 18, "0.0083333333")]
    [InlineData("0.00153210", 8, "0.00153210")]
    [InlineData("25.500000", 6, "25.500000")]
    [InlineData("1234.56789", 8, "1234.5679")]
    [InlineData("123456789.123456", 6, "123456790")]
    [InlineData("0.000000000000000001", 18, "0.000000000000000001")]
    [InlineData("0.100000000000000001", 18, "0.10000001")]
    public void Amounts_round_up_to_eight_significant_digits_only_when_they_have_more(string exact, int decimals, string shown)
    {
        Assert.Equal(shown, CheckoutAmounts.Display(decimal.Parse(exact, System.Globalization.CultureInfo.InvariantCulture), decimals));
        Assert.True(decimal.Parse(shown, System.Globalization.CultureInfo.InvariantCulture) >= decimal.Parse(exact, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task An_ether_amount_shows_rounded_while_copy_and_uri_keep_the_exact_amount()
    {
        using var merchant = host.ClientWith((await host.CreateMerchantAsync()).TestKey);
        var invoice = (await merchant.PostJsonAsync("/v1/invoices", """{"amount":"25","currency":"USD","payment_methods":["eth_sandbox"]}""")).Body;
        var method = invoice.GetProperty("payment_methods")[0];
        Assert.Equal("0.008333333333333334", method.Str("amount"));

        var html = await host.Http.GetStringAsync($"/pay/{invoice.Str("id")}");

        Assert.Contains("<span id=\"crypto-amount\">0.0083333334</span>", html, StringComparison.Ordinal);
        Assert.Contains("data-copy=\"0.008333333333333334\" aria-label=\"Copy amount\"", html, StringComparison.Ordinal);
        Assert.Contains("<span id=\"exact-amount\">0.008333333333333334</span>", html, StringComparison.Ordinal);
        Assert.Contains(HtmlEncoder.Default.Encode(method.Str("payment_uri")), html, StringComparison.Ordinal);
        Assert.Contains("8333333333333334", method.Str("payment_uri"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_method_choice_shows_each_amount_rounded_the_same_way()
    {
        using var merchant = host.ClientWith((await host.CreateMerchantAsync()).TestKey);
        var id = (await merchant.PostJsonAsync("/v1/invoices", """{"amount":"25","currency":"USD","payment_methods":["eth_sandbox","usdt_sandbox"]}""")).Body.Str("id");

        var html = await host.Http.GetStringAsync($"/pay/{id}");

        Assert.Contains("ETH on sandbox · 0.0083333334</button>", html, StringComparison.Ordinal);
        Assert.Contains("USDT on sandbox · 25.000000</button>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("0.008333333333333334", html, StringComparison.Ordinal);
    }
}
