using System.Diagnostics;
using System.Globalization;
using System.Net;
using CryptoPay.OrleansProcessHost;
using CryptoPay.ProcessSupport;
using CryptoPay.TestSupport.Postgres;
using CryptoPay.TestSupport.Processes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Xunit.Abstractions;

namespace CryptoPay.OrleansTests.Membership;

[CollectionDefinition("silo-processes")]
public sealed class SiloProcessCollection : ICollectionFixture<PostgresFixture>;

/// <summary>
/// Two real silo processes (tests/Orleans.ProcessHost) joined through ADO.NET clustering: one is killed
/// (SIGKILL) or hung (SIGSTOP); the membership timings of OrleansHosting must move its grains to the
/// survivor within 10 s and 20 s. Calls enter through the survivor's gateway, as the co-hosted API does.
/// </summary>
[Collection("silo-processes")]
public sealed class SiloProcessFailoverTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(45);

    [Theory]
    [InlineData("kill", 10)]
    [InlineData("stop", 20)]
    public async Task A_dead_or_hung_silo_process_grains_answer_on_the_survivor_in_time(string fault, int limitSeconds)
    {
        var database = await postgres.CreateDatabaseAsync();
        var ids = $"p{Guid.NewGuid():N}";
        var (survivorPorts, victimPorts) = (Ports(), Ports());
        var starting = new[] { StartSiloAsync(database, ids, survivorPorts), StartSiloAsync(database, ids, victimPorts) };
        await using var survivor = await starting[0];
        await using var victim = await starting[1];
        using var client = await ConnectAsync(ids, survivorPorts.Gateway);
        var grains = client.Services.GetRequiredService<IGrainFactory>();
        var (counter, before) = await Failover.ActivatedOnAsync(grains, "process-failover", r => OnPort(r, victimPorts.Silo));

        var clock = Stopwatch.StartNew();
        using var hung = fault == "stop" ? victim.Suspend() : null;
        if (fault == "kill")
        {
            victim.Kill();
        }

        var after = await Failover.PollAsync(() => counter.ReadAsync(), r => OnPort(r, survivorPorts.Silo), TimeSpan.FromSeconds(limitSeconds + 30));
        var answeredIn = clock.Elapsed;

        output.WriteLine($"{fault}: the victim's grain answered on the survivor after {answeredIn.TotalSeconds:0.0} s");
        Assert.Equal(before.Total, after.Total);
        Assert.True(answeredIn < TimeSpan.FromSeconds(limitSeconds), $"{fault}: took {answeredIn.TotalSeconds:0.0} s\n{survivor.Output}");
    }

    private static (int Silo, int Gateway) Ports() => LoopbackPort.PickFree(2) is [var silo, var gateway] ? (silo, gateway) : throw new InvalidOperationException();

    private static async Task<SiloProcess> StartSiloAsync(string database, string ids, (int Silo, int Gateway) ports)
    {
        var silo = SiloProcess.Launch(
            BuildOutputs.Locate(typeof(SiloProcessFailoverTests).Assembly, "CryptoPay.Orleans.ProcessHost.Path"),
            [],
            new Dictionary<string, string?>
            {
                ["ConnectionStrings__Postgres"] = database,
                ["Orleans__SiloPort"] = ports.Silo.ToString(CultureInfo.InvariantCulture),
                ["Orleans__GatewayPort"] = ports.Gateway.ToString(CultureInfo.InvariantCulture),
                ["Orleans__AdvertisedAddress"] = "127.0.0.1",
                ["Orleans__ClusterId"] = ids,
                ["Orleans__ServiceId"] = ids,
            });
        try
        {
            await silo.WaitForOutputLineAsync("silo started", StartTimeout);
            return silo;
        }
        catch (Exception error) when (error is TimeoutException or InvalidOperationException)
        {
            var output = silo.Output;
            await silo.DisposeAsync();
            throw new InvalidOperationException($"the silo process did not start\n{output}", error);
        }
    }

    private static async Task<IHost> ConnectAsync(string ids, int gatewayPort)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort));
            client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (ids, ids));
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static bool OnPort(CounterReading reading, int siloPort) =>
        reading.Silo.Contains($":{siloPort.ToString(CultureInfo.InvariantCulture)}:", StringComparison.Ordinal);
}
