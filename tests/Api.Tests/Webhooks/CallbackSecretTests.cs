using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Grains.Webhooks;
using CryptoPay.TestSupport.Postgres;
using CryptoPay.TestSupport.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CryptoPay.Api.Tests.Webhooks;

public sealed class MemoryCallbackSecretTests : CallbackSecretTests
{
    protected override Task<string?> CreateDatabaseAsync() => Task.FromResult<string?>(null);
}

[Collection("postgres")]
public sealed class PostgresCallbackSecretTests(PostgresFixture postgres) : CallbackSecretTests
{
    protected override async Task<string?> CreateDatabaseAsync() => await postgres.CreateDatabaseAsync();
}

/// <summary>
/// Deliveries to an invoice's callback_url, verified as a merchant would: with the secret from
/// <c>GET /v1/webhooks/callback-secret</c> and the npm <c>standardwebhooks</c> library. The fake clock starts at the real
/// time, so the library's timestamp tolerance holds.
/// </summary>
public abstract class CallbackSecretTests : IAsyncLifetime
{
    private GatewayHost host = null!;
    private WebhookReceiver receiver = null!;
    private HttpClient merchant = null!;
    private HttpClient live = null!;
    private string merchantId = "";

    protected abstract Task<string?> CreateDatabaseAsync();

    public async Task InitializeAsync()
    {
        var database = await CreateDatabaseAsync();
        receiver = await WebhookReceiver.StartAsync();
        host = await GatewayHost.StartAsync(database, new Dictionary<string, string?> { ["Webhooks:AllowPrivateTargets"] = "true" },
            new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds())));
        (merchantId, var liveKey, var testKey) = await host.CreateMerchantAsync();
        merchant = host.ClientWith(testKey);
        live = host.ClientWith(liveKey);
    }

    public async Task DisposeAsync()
    {
        merchant.Dispose();
        live.Dispose();
        await host.DisposeAsync();
        await receiver.DisposeAsync();
    }

    [Fact]
    public async Task A_callback_delivery_verifies_with_the_shown_secret_and_after_rotation_with_the_new_and_the_old_one()
    {
        var shown = await merchant.GetJsonAsync("/v1/webhooks/callback-secret");
        Assert.True(shown.Status == 200, shown.Body.ToString());
        var secret = shown.Body.Str("secret");
        Assert.StartsWith(WebhookSignature.SecretPrefix, secret, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, shown.Body.GetProperty("previous_secret_expires_at").ValueKind);
        Assert.Equal("no-store", shown.Response.Headers.CacheControl?.ToString());
        Assert.Equal(secret, (await merchant.GetJsonAsync("/v1/webhooks/callback-secret")).Body.Str("secret"));
        Assert.NotEqual(secret, (await live.GetJsonAsync("/v1/webhooks/callback-secret")).Body.Str("secret"));

        var invoiceId = await CreateInvoiceAsync();
        var created = await ArrivedAsync("invoice.created");
        Assert.True(await VerifiesAsync(created, secret));
        Assert.False(await VerifiesAsync(created, WebhookSignature.GenerateSecret()));

        var rotated = await merchant.PostJsonAsync("/v1/webhooks/callback-secret/rotate", "", r => r.Headers.Add("Idempotency-Key", "rotate-1"));
        Assert.True(rotated.Status == 200, rotated.Body.ToString());
        var newSecret = rotated.Body.Str("secret");
        Assert.NotEqual(secret, newSecret);
        Assert.Equal(host.Clock.GetUtcNow() + TimeSpan.FromHours(24), rotated.Body.GetProperty("previous_secret_expires_at").GetDateTimeOffset());
        var replayed = await merchant.PostJsonAsync("/v1/webhooks/callback-secret/rotate", "", r => r.Headers.Add("Idempotency-Key", "rotate-1"));
        Assert.Equal((200, newSecret, "no-store"), (replayed.Status, replayed.Body.Str("secret"), replayed.Response.Headers.CacheControl?.ToString()));
        Assert.Equal(newSecret, (await merchant.GetJsonAsync("/v1/webhooks/callback-secret")).Body.Str("secret"));

        // The sender keeps a target's secrets for a moment; the new secret signs once that has passed.
        host.Clock.Advance(WebhookSender.TargetCacheTime + TimeSpan.FromSeconds(1));
        Assert.Equal(200, (await merchant.PostJsonAsync($"/v1/sandbox/invoices/{invoiceId}/pay", "{}")).Status);
        var detected = await ArrivedAsync("invoice.payment_detected");
        Assert.Equal(2, detected.Signature.Split(' ').Length);
        Assert.True(await VerifiesAsync(detected, newSecret));
        Assert.True(await VerifiesAsync(detected, secret));
    }

    [Fact]
    public async Task The_callback_secret_needs_the_webhooks_scope_and_a_key()
    {
        using var anonymous = new HttpClient { BaseAddress = host.Http.BaseAddress };
        HttpJson.AssertProblem(await anonymous.GetJsonAsync("/v1/webhooks/callback-secret"), 401, "UNAUTHORIZED");

        using var admin = host.ClientWith(GatewayHost.AdminKey);
        var key = await admin.PostJsonAsync($"/v1/merchants/{merchantId}/api-keys", """{"mode":"test","scopes":["invoices:read"]}""");
        Assert.True(key.Status == 201, key.Body.ToString());
        using var invoicesOnly = host.ClientWith(key.Body.Str("key"));
        HttpJson.AssertProblem(await invoicesOnly.GetJsonAsync("/v1/webhooks/callback-secret"), 403, "FORBIDDEN");
        HttpJson.AssertProblem(await invoicesOnly.PostJsonAsync("/v1/webhooks/callback-secret/rotate", ""), 403, "FORBIDDEN");
    }

    private async Task<string> CreateInvoiceAsync()
    {
        var invoice = await merchant.PostJsonAsync("/v1/invoices",
            $$"""{"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"],"callback_url":"{{receiver.Url("/callback")}}"}""");
        Assert.True(invoice.Status == 201, invoice.Body.ToString());
        return invoice.Body.Str("id");
    }

    /// <summary>The first delivery of <paramref name="type"/>, once the due work and the sender have run it.</summary>
    private async Task<ReceivedWebhook> ArrivedAsync(string type)
    {
        var sender = host.Services.GetRequiredService<WebhookSender>();
        for (var round = 0; round < 20; round++)
        {
            if (receiver.Received.FirstOrDefault(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("type").GetString() == type) is { } hook)
            {
                return hook;
            }

            await host.RunDueWorkAsync();
            await sender.WhenIdleAsync();
        }

        throw new Xunit.Sdk.XunitException($"No {type} delivery arrived; received: {string.Join(", ", receiver.Received.Select(r => r.Body))}");
    }

    private static async Task<bool> VerifiesAsync(ReceivedWebhook hook, string secret)
    {
        var result = await StandardWebhooksVerifier.VerifyAsync(secret, hook.Id, hook.Timestamp, hook.Signature, hook.Body);
        if (result.Verified)
        {
            Assert.Equal(hook.Id, JsonDocument.Parse(result.Output).RootElement.GetProperty("id").GetString());
        }

        return result.Verified;
    }
}
