using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Webhooks;
using Orleans;
using CryptoPay.TestSupport.Processes;
using CryptoPay.Silo.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CryptoPay.Api.Tests.Hosting;

/// <summary>The real silo composition (AddCryptoPayGateway) on a loopback port, with a fake clock the test moves.</summary>
public sealed class GatewayHost : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-0123456789";

    /// <summary>
    /// Orleans' dashboard reads and gzips all its embedded assets when its (internal) asset provider is first resolved:
    /// ~350 ms of CPU per host, more than the silo's own start. The provider holds only those immutable bytes, so the
    /// hosts of a test run share the first host's instead of each compressing them again.
    /// </summary>
    private static readonly Type DashboardAssetsType = typeof(Orleans.Dashboard.DashboardOptions).Assembly
        .GetType("Orleans.Dashboard.EmbeddedAssetProvider", throwOnError: true)!;

    private static object? dashboardAssets;

    private readonly WebApplication app;

    private readonly string? postgres;

    private GatewayHost(WebApplication app, FakeTimeProvider clock, string? postgres)
    {
        this.app = app;
        this.postgres = postgres;
        Clock = clock;
        var address = app.Urls.First();
        Http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(60) };
    }

    public FakeTimeProvider Clock { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => app.Services;

    /// <summary>The Orleans grains of this host's silo.</summary>
    public Orleans.IGrainFactory Grains => app.Services.GetRequiredService<Orleans.IGrainFactory>();

    public static async Task<GatewayHost> StartAsync(string? postgres, IDictionary<string, string?>? settings = null, FakeTimeProvider? clock = null)
    {
        // Tests' dates are in 2030 (the clock they were written against started there).
        clock ??= new FakeTimeProvider(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        // A port found free can be taken by another process before Orleans binds it: then start again on new ports.
        for (var attempt = 1; ; attempt++)
        {
            var app = Build(postgres, settings, clock);
            try
            {
                await app.StartAsync();
                return new GatewayHost(app, clock, postgres);
            }
            catch (Exception error) when (attempt < 3 && IsPortTaken(error))
            {
                await app.DisposeAsync();
            }
        }
    }

    private static bool IsPortTaken(Exception error) =>
        error is Microsoft.AspNetCore.Connections.AddressInUseException ||
        error.InnerException is { } inner && IsPortTaken(inner);

    private static WebApplication Build(string? postgres, IDictionary<string, string?>? settings, FakeTimeProvider clock)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var orleansPorts = LoopbackPort.PickFree(2);
        var config = new Dictionary<string, string?>
        {
            ["Admin:ApiKey"] = AdminKey,
            ["Sandbox:BlockInterval"] = "00:00:05",
            ["ConnectionStrings:Postgres"] = postgres,
            // Orleans runs in the host too: ports of its own, and silos of one database reach each other on loopback.
            ["Orleans:SiloPort"] = orleansPorts[0].ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:GatewayPort"] = orleansPorts[1].ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Orleans:AdvertisedAddress"] = "127.0.0.1",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            config[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(config);
        builder.Services.AddKeyedSingleton<TimeProvider>(CryptoPay.Grains.Hosting.GatewayClock.Key, clock);
        builder.AddCryptoPayGateway();
        if (Volatile.Read(ref dashboardAssets) is { } assets)
        {
            builder.Services.AddSingleton(DashboardAssetsType, assets);
        }

        var app = builder.Build();
        app.MapCryptoPayGateway();
        Interlocked.CompareExchange(ref dashboardAssets, app.Services.GetRequiredService(DashboardAssetsType), null);
        return app;
    }

    /// <summary>Moves the fake clock and runs everything that became due (grain reminders, webhook attempts) until quiet.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        Clock.Advance(by);
        await RunDueWorkAsync();
    }

    /// <summary>
    /// Credits a confirmed live deposit of <paramref name="units"/> to the merchant's balance through the ledger, as the
    /// chain watchers do (a fresh output each call), runs what it makes due, and answers its payment id (the output key).
    /// </summary>
    public async Task<string> CreditLiveDepositAsync(string merchantId, string asset, string network, System.Numerics.BigInteger units)
    {
        var credit = new CryptoPay.Grains.Ledger.DepositCredit(Guid.Parse(merchantId), CryptoPay.Grains.Merchants.Mode.Live, network, asset, Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()), 0, units, Guid.NewGuid());
        await Grains.GetGrain<CryptoPay.Grains.Ledger.ILedgerOutputGrain>(credit.OutputKey).Credit(new CreditOutput(credit) { Sender = "test/deposits", Sequence = 1 });
        await RunDueWorkAsync();
        return credit.OutputKey;
    }

    /// <summary>The USDT-TRON balance as <c>GET /v1/balances</c> answers it to <paramref name="client"/>: (available, reserved).</summary>
    public static async Task<(string Available, string Reserved)> UsdtTronAsync(HttpClient client)
    {
        var answer = await client.GetJsonAsync("/v1/balances");
        Assert.True(answer.Status == 200, answer.Body.ToString());
        var usdt = answer.Body.GetProperty("balances").GetProperty("USDT-TRON");
        return (usdt.Str("available"), usdt.Str("reserved"));
    }

    public async Task RunDueWorkAsync()
    {
        var sender = app.Services.GetRequiredService<WebhookSender>();
        // A round's work (a retried webhook's result, a mined block's confirmations) can make more due: three rounds.
        for (var round = 0; round < 3; round++)
        {
            await DueWork.WakeAllAsync(app.Services.GetRequiredService<IReminderTable>(), Grains);
            await sender.WhenIdleAsync();
        }
    }

    public HttpClient ClientWith(string key)
    {
        var client = new HttpClient { BaseAddress = Http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>Whose Idempotency-Keys requests made with <see cref="AdminKey"/> send.</summary>
    public static string AdminScope => CryptoPay.Api.Access.IdempotencyScopes.Admin(AdminKey);

    /// <summary>Whose Idempotency-Keys a merchant's test-mode requests send.</summary>
    public static string TestScope(string merchantId) => CryptoPay.Api.Access.IdempotencyScopes.Merchant(Guid.Parse(merchantId), CryptoPay.Grains.Merchants.Mode.Test);

    /// <summary>
    /// Leaves what a silo killed in the middle of a <c>POST <paramref name="path"/></c> with <paramref name="body"/> under
    /// <paramref name="idempotencyKey"/> of <paramref name="scope"/> leaves behind: the key's record started by that request,
    /// never completed.
    /// </summary>
    public async Task LeaveDiedAttemptAsync(string scope, string path, string body, string idempotencyKey)
    {
        var fingerprint = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"POST {path}\n{body}")));
        var record = Grains.GetGrain<CryptoPay.Grains.Idempotency.IIdempotencyGrain>(CryptoPay.Api.Access.IdempotencyScopes.GrainKey(scope, idempotencyKey));
        Assert.Equal(CryptoPay.Grains.Idempotency.IdempotencyOutcome.Started, (await record.Begin(fingerprint, null)).Outcome);
    }

    /// <summary>Creates a merchant through the admin API and returns its id with its live and test keys.</summary>
    public async Task<(string Id, string LiveKey, string TestKey)> CreateMerchantAsync(string body = """{"name":"Shop"}""")
    {
        using var admin = ClientWith(AdminKey);
        using var response = await admin.PostAsync("/v1/merchants", new StringContent(body, Encoding.UTF8, "application/json"));
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, json.ToString());
        var keys = json.GetProperty("api_keys").EnumerateArray().ToDictionary(k => k.GetProperty("mode").GetString()!, k => k.GetProperty("key").GetString()!);
        return (json.GetProperty("id").GetString()!, keys["live"], keys["test"]);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
        if (postgres is not null)
        {
            // Orleans' ADO.NET providers open pooled connections by their own connection string; a finished test's
            // database must not keep them idle while other tests need the server's connection slots.
            Npgsql.NpgsqlConnection.ClearPool(new Npgsql.NpgsqlConnection(postgres));
            Npgsql.NpgsqlConnection.ClearPool(new Npgsql.NpgsqlConnection(CryptoPay.Silo.Hosting.OrleansHosting.ProviderConnectionString(postgres)));
        }
    }
}

public static class HttpJson
{
    public static async Task<(int Status, JsonElement Body, HttpResponseMessage Response)> SendJsonAsync(this HttpClient client, HttpMethod method, string path, string? body = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        configure?.Invoke(request);
        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonElement json = default;
        if (text.Length > 0)
        {
            try
            {
                json = JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
                json = JsonDocument.Parse(JsonSerializer.Serialize(text)).RootElement.Clone();
            }
        }

        return ((int)response.StatusCode, json, response);
    }

    public static Task<(int Status, JsonElement Body, HttpResponseMessage Response)> PostJsonAsync(this HttpClient client, string path, string body, Action<HttpRequestMessage>? configure = null) =>
        client.SendJsonAsync(HttpMethod.Post, path, body, configure);

    public static Task<(int Status, JsonElement Body, HttpResponseMessage Response)> GetJsonAsync(this HttpClient client, string path) =>
        client.SendJsonAsync(HttpMethod.Get, path);

    public static string Str(this JsonElement element, string name) => element.GetProperty(name).ToString();

    /// <summary>The answer is an RFC 9457 problem with this status and machine code.</summary>
    public static void AssertProblem((int Status, JsonElement Body, HttpResponseMessage Response) answer, int status, string code)
    {
        Assert.True(answer.Status == status, $"expected {status} {code}, got {answer.Status}: {answer.Body}");
        Assert.Equal("application/problem+json", answer.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, answer.Body.Str("code"));
        Assert.False(string.IsNullOrEmpty(answer.Body.Str("request_id")));
    }
}
