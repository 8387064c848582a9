using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CryptoPay.Silo.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace CryptoPay.Api.Bench;

/// <summary>
/// The gateway the HTTP benches measure: real Kestrel on a loopback port in this process, on PostgreSQL, with the
/// operator key <see cref="AdminKey"/> and no per-key rate limit in the way (Api.Bench, Compat.Bench, Settlement.Bench).
/// </summary>
internal static class BenchGateway
{
    public const string AdminKey = "bench-admin-key-0123456789abcdef";

    /// <summary>Starts the gateway on <paramref name="database"/>; <paramref name="settings"/> are added to or override its configuration.</summary>
    public static async Task<WebApplication> StartAsync(string database, CancellationToken ct, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = database,
            ["Admin:ApiKey"] = AdminKey,
            ["Api:RateLimitPerMinute"] = int.MaxValue.ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);
        builder.AddCryptoPayGateway();
        var gateway = builder.Build();
        gateway.MapCryptoPayGateway();
        await gateway.StartAsync(ct);
        return gateway;
    }

    /// <summary>Creates a merchant from <paramref name="body"/> with the operator key; answers its test key.</summary>
    public static async Task<string> CreateMerchantAsync(HttpClient http, string body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/merchants") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if ((int)response.StatusCode != 201)
        {
            throw new InvalidOperationException($"POST /v1/merchants answered {(int)response.StatusCode}: {text}");
        }

        using var merchant = JsonDocument.Parse(text);
        return merchant.RootElement.GetProperty("api_keys").EnumerateArray().First(k => k.GetProperty("mode").GetString() == "test").GetProperty("key").GetString()!;
    }
}
