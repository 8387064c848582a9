using System.Net.Http.Headers;
using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Grains.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace CryptoPay.Api.Tests.Compatibility;

/// <summary>
/// A gateway for one profile's tests: a merchant whose first keys are in the profile's format, clients that send them
/// the way the document says, and the ledger invariants checked when the test ends. The clock starts at the real time,
/// so signatures with timestamps verify.
/// </summary>
public abstract class ProfileTestHost : IAsyncLifetime
{
    protected GatewayHost Host { get; private set; } = null!;

    protected string MerchantId { get; private set; } = "";

    protected string LiveKey { get; private set; } = "";

    protected string TestKey { get; private set; } = "";

    /// <summary>The key format the merchant is created with (KeyFormats).</summary>
    protected abstract string KeyFormat { get; }

    protected abstract Task<string?> CreateDatabaseAsync();

    /// <summary>When the gateway's clock starts: now (whole seconds), unless a document's examples need their own dates.</summary>
    protected virtual DateTimeOffset StartsAt => DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());

    /// <summary>Settings of the gateway besides the ones every profile test has.</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    public virtual async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?>(Settings) { ["Webhooks:AllowPrivateTargets"] = "true" };
        Host = await GatewayHost.StartAsync(await CreateDatabaseAsync(), settings, new FakeTimeProvider(StartsAt));
        (MerchantId, LiveKey, TestKey) = await Host.CreateMerchantAsync($$"""{"name":"Shop","key_format":"{{KeyFormat}}"}""");
    }

    public virtual async Task DisposeAsync()
    {
        try
        {
            await Host.RunDueWorkAsync();
            await LedgerInvariants.CheckAsync(Host.Services.GetRequiredService<ILedgerQuery>());
        }
        finally
        {
            await Host.DisposeAsync();
        }
    }

    /// <summary>A client sending <paramref name="key"/> in <paramref name="header"/> (Authorization sends it as a Bearer token).</summary>
    protected HttpClient Client(string key, string header)
    {
        var client = new HttpClient { BaseAddress = Host.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (header == "Authorization")
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        else
        {
            client.DefaultRequestHeaders.Add(header, key);
        }

        return client;
    }

    /// <summary>
    /// Pays a test invoice in full on the sandbox chain as a customer on its checkout page does (picks the method, then
    /// the page's simulated payment), and lets the sandbox's next block confirm it.
    /// </summary>
    protected async Task PayInSandboxAsync(string invoiceId, string method = "usdt_sandbox")
    {
        using var picked = await Host.Http.GetAsync($"/pay/{invoiceId}?method={method}");
        Assert.Equal(System.Net.HttpStatusCode.OK, picked.StatusCode);
        var paid = await Host.Http.PostJsonAsync($"/pay/{invoiceId}/simulate", $$"""{"method":"{{method}}"}""");
        Assert.True(paid.Status == 200, paid.Body.ToString());
        await Host.AdvanceAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Issues the merchant another key in this profile's format through the admin API.</summary>
    protected async Task<string> IssueKeyAsync(string body)
    {
        using var admin = Host.ClientWith(GatewayHost.AdminKey);
        var issued = await admin.PostJsonAsync($"/v1/merchants/{MerchantId}/api-keys", body);
        Assert.True(issued.Status == 201, issued.Body.ToString());
        return issued.Body.Str("key");
    }

    /// <summary>The answer is the profile's error body: exactly these fields, the code as given.</summary>
    protected static void AssertError((int Status, JsonElement Body, HttpResponseMessage Response) answer, int status, string code, params string[] fields)
    {
        Assert.True(answer.Status == status, $"expected {status} {code}, got {answer.Status}: {answer.Body}");
        Assert.Equal("application/json", answer.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(fields.Order(), answer.Body.EnumerateObject().Select(p => p.Name).Order());
        Assert.Contains(answer.Body.EnumerateObject(), p => p.Value.ToString() == code);
    }
}
