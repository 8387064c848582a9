using System.Net.Http.Headers;
using CryptoPay.ProcessSupport;

namespace CryptoPay.Silo.Tests;

/// <summary>The CryptoPay.Silo.dll built with this test project, started as operators start it.</summary>
internal static class SiloExecutable
{
    /// <summary>The operator admin key (Admin:ApiKey) every silo of these tests is started with.</summary>
    public const string AdminKey = "silo-tests-admin-key-0123456789";

    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(45);

    public static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(45);

    public static string Path => BuildOutputs.Locate(typeof(SiloExecutable).Assembly, "CryptoPay.Silo.Path");

    /// <summary>The admin key, and the database when given (else the embedded default).</summary>
    public static Dictionary<string, string?> Environment(string? postgres = null) => new()
    {
        ["ConnectionStrings__Postgres"] = postgres,
        ["Admin__ApiKey"] = AdminKey,
    };

    /// <summary>A client of the silo's operator endpoints (/v1/cluster/*), sending the admin key.</summary>
    public static HttpClient Operator(SiloProcess silo)
    {
        var client = new HttpClient { BaseAddress = silo.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        return client;
    }

    public static Task<SiloProcess> StartAsync(Dictionary<string, string?> environment, CancellationToken ct) =>
        SiloProcess.StartAsync(Path, environment, ReadyTimeout, ct);
}
