using CryptoPay.ProcessSupport;

namespace CryptoPay.Integration.Tests.Cluster;

/// <summary>tests/Runtime.ProcessHost as built with this test project: a real silo process with the ledger test grains.</summary>
internal static class ProcessHostExecutable
{
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    public static string Path => BuildOutputs.Locate(typeof(ProcessHostExecutable).Assembly, "CryptoPay.Runtime.ProcessHost.Path");

    /// <summary>
    /// Short heartbeats and message leases, so a killed silo is seen dead and its undelivered messages
    /// are taken over within seconds instead of the production half minute.
    /// </summary>
    public static Dictionary<string, string?> Environment(string postgres) => new()
    {
        ["ConnectionStrings__Postgres"] = postgres,
        ["Silo__HeartbeatInterval"] = "00:00:01",
        ["Silo__MessageLease"] = "00:00:02",
        ["Silo__MessagePollInterval"] = "00:00:00.200",
        ["Silo__MessageRetryMax"] = "00:00:02",
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__CryptoPay"] = "Information",
    };

    public static Task<SiloProcess> StartAsync(string postgres, CancellationToken ct) =>
        SiloProcess.StartAsync(Path, Environment(postgres), ReadyTimeout, ct);
}
