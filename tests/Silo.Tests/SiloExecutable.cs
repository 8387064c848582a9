using CryptoPay.ProcessSupport;

namespace CryptoPay.Silo.Tests;

/// <summary>The CryptoPay.Silo.dll built with this test project, started as operators start it.</summary>
internal static class SiloExecutable
{
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(45);

    public static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(45);

    public static string Path => BuildOutputs.Locate(typeof(SiloExecutable).Assembly, "CryptoPay.Silo.Path");

    /// <summary>Fast heartbeats so liveness changes show within seconds.</summary>
    public static Dictionary<string, string?> Environment(string? postgres = null) => new()
    {
        ["ConnectionStrings__Postgres"] = postgres,
        ["Silo__HeartbeatInterval"] = "00:00:01",
    };

    public static Task<SiloProcess> StartAsync(Dictionary<string, string?> environment, CancellationToken ct) =>
        SiloProcess.StartAsync(Path, environment, ReadyTimeout, ct);
}
