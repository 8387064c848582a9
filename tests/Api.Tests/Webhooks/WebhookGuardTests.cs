using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Grains.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Api.Tests.Webhooks;

/// <summary>The gateway as deployed (private targets refused): internal URLs fail at creation, internal hosts at connect time.</summary>
public sealed class WebhookGuardTests : IAsyncLifetime
{
    private GatewayHost host = null!;
    private WebhookReceiver receiver = null!;

    public async Task InitializeAsync()
    {
        receiver = await WebhookReceiver.StartAsync();
        host = await GatewayHost.StartAsync(null);
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await receiver.DisposeAsync();
    }

    [Theory]
    [InlineData("http://127.0.0.1/hook")]
    [InlineData("http://10.0.0.1/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://user:secret@example.com/hook")]
    public async Task Internal_or_credentialed_urls_are_refused_at_creation(string url)
    {
        var (_, _, test) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(test);
        var answer = await merchant.PostJsonAsync("/v1/webhook-endpoints", $$"""{"url":"{{url}}"}""");
        Assert.Equal(400, answer.Status);
        Assert.Equal("VALIDATION_FAILED", answer.Body.Str("code"));
    }

    [Fact]
    public async Task A_host_name_resolving_to_loopback_is_refused_when_connecting()
    {
        var (_, _, test) = await host.CreateMerchantAsync();
        using var merchant = host.ClientWith(test);
        var url = receiver.Url().Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        Assert.Equal(201, (await merchant.PostJsonAsync("/v1/webhook-endpoints", $$"""{"url":"{{url}}","events":["invoice.created"]}""")).Status);
        Assert.Equal(201, (await merchant.PostJsonAsync("/v1/invoices", """{"amount":"5","currency":"USD","payment_methods":["usdt_sandbox"]}""")).Status);
        await host.RunDueWorkAsync();
        await host.Services.GetRequiredService<WebhookSender>().WhenIdleAsync();
        await host.RunDueWorkAsync();

        Assert.Empty(receiver.Received);
        var delivery = Assert.Single((await merchant.GetJsonAsync("/v1/webhook-deliveries")).Body.GetProperty("data").EnumerateArray());
        Assert.Contains("internal addresses", delivery.GetProperty("attempts")[0].Str("error"), StringComparison.Ordinal);
    }
}
