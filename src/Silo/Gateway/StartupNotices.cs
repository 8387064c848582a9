using System.Security.Cryptography;

namespace CryptoPay.Silo.Gateway;

/// <summary>
/// What an operator should know when a silo starts with settings left at their defaults: the operator admin key
/// (generated for the embedded default, so its first request does not meet a bare 401) and the public base URL that
/// webhook payloads link to. Logged once at start-up as warnings.
/// </summary>
internal sealed class StartupNotices(IReadOnlyList<string> notices, ILogger<StartupNotices> logger) : IHostedService
{
    /// <summary>Fills in what the embedded default may choose itself, and returns what to tell the operator.</summary>
    public static IReadOnlyList<string> Apply(IConfiguration configuration, IHostEnvironment environment, bool embedded)
    {
        var notices = new List<string>();
        if (string.IsNullOrEmpty(configuration["Admin:ApiKey"]))
        {
            if (embedded)
            {
                var key = "cp_admin_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                configuration["Admin:ApiKey"] = key;
                notices.Add($"Admin__ApiKey is not set: the operator admin key of this run is {key} " +
                            "(send it as 'Authorization: Bearer <key>' to POST /v1/merchants; set Admin__ApiKey to choose your own).");
            }
            else
            {
                notices.Add("Admin__ApiKey is not set: the operator endpoints (/v1/merchants, /v1/cluster/*, /metrics, /dashboard) refuse every request until it is.");
            }
        }

        if (string.IsNullOrEmpty(configuration["Api:PublicBaseUrl"]) && !environment.IsDevelopment())
        {
            notices.Add("Api__PublicBaseUrl is not set: webhook payloads link to checkout pages at http://localhost/pay/…; " +
                        "set it to the gateway's public address (e.g. https://pay.example.com).");
        }

        return notices;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var notice in notices)
        {
            logger.LogWarning("{Notice}", notice);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
