using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using CryptoPay.Grains.Webhooks;

namespace CryptoPay.Api.Tests.Webhooks;

public sealed class WebhookSignatureTests
{
    [Fact]
    public void Signing_reproduces_the_Standard_Webhooks_published_test_vector()
    {
        var signature = WebhookSignature.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}""");
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Fact]
    public void A_generated_secret_is_whsec_and_24_random_bytes_and_signs_like_an_independent_HMAC()
    {
        var secret = WebhookSignature.GenerateSecret();
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        Assert.Equal(24, key.Length);
        Assert.NotEqual(secret, WebhookSignature.GenerateSecret());

        using var hmac = new HMACSHA256(key);
        var expected = "v1," + Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes("evt_1.1700000000.{\"a\":1}")));
        Assert.Equal(expected, WebhookSignature.Sign(secret, "evt_1", 1700000000, "{\"a\":1}"));
    }

    [Fact]
    public void During_rotation_the_header_carries_one_signature_per_live_secret()
    {
        var header = WebhookSignature.Header(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", WebhookSignature.GenerateSecret()], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}""");
        var parts = header.Split(' ');
        Assert.Equal(2, parts.Length);
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", parts[0]);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.0.0.1")]
    [InlineData("172.16.5.4")]
    [InlineData("192.168.1.1")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData("224.0.0.1")]
    [InlineData("::1")]
    [InlineData("fd00::1")]
    [InlineData("fe80::1")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    public void Internal_addresses_are_blocked(string address) => Assert.True(WebhookTargetGuard.IsBlocked(IPAddress.Parse(address)));

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700::1111")]
    public void Public_addresses_are_allowed(string address) => Assert.False(WebhookTargetGuard.IsBlocked(IPAddress.Parse(address)));

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task The_connect_time_check_refuses_a_host_resolving_to_loopback(string host)
    {
        var context = CreateContext(host, 80);
        var error = await Assert.ThrowsAsync<WebhookTargetRefusedException>(async () => await WebhookTargetGuard.ConnectAsync(context, CancellationToken.None));
        Assert.Contains("internal", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://example.com/hook", "http or https")]
    [InlineData("https://user:pass@example.com/hook", "credentials")]
    [InlineData("https://127.0.0.1/hook", "internal")]
    [InlineData("https://[::1]/hook", "internal")]
    [InlineData("http://169.254.169.254/latest/meta-data", "internal")]
    [InlineData("http://10.0.0.1/", "internal")]
    public void Bad_urls_are_refused_at_creation(string url, string reason) =>
        Assert.Contains(reason, WebhookTargetGuard.ValidateUrl(url, allowPrivateTargets: false), StringComparison.Ordinal);

    [Fact]
    public void Long_urls_are_refused_and_private_ones_pass_when_allowed()
    {
        Assert.NotNull(WebhookTargetGuard.ValidateUrl("https://example.com/" + new string('a', 2100), false));
        Assert.Null(WebhookTargetGuard.ValidateUrl("http://127.0.0.1:8080/hook", allowPrivateTargets: true));
        Assert.Null(WebhookTargetGuard.ValidateUrl("https://example.com/hook", allowPrivateTargets: false));
    }

    private static SocketsHttpConnectionContext CreateContext(string host, int port)
    {
        // The context has no public constructor: the handler hands it to the callback, so capture one from a real request.
        SocketsHttpConnectionContext? captured = null;
        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = (context, _) =>
            {
                captured = context;
                throw new HttpRequestException("captured");
            },
        };
        using var client = new HttpClient(handler);
        var target = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        Assert.ThrowsAny<HttpRequestException>(() => client.GetAsync(new Uri($"http://{target}:{port}/")).GetAwaiter().GetResult());
        return captured!;
    }
}
