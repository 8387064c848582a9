using CryptoPay.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orleans.TestingHost;

namespace CryptoPay.OrleansTests;

/// <summary>
/// Orleans test clusters whose silos are configured by the silo's own hosting extension
/// (<see cref="OrleansHosting.ConfigureCryptoPay"/>).
/// </summary>
internal static class OrleansTestCluster
{
    /// <summary>
    /// Silos and client on PostgreSQL: ADO.NET clustering, grain state and reminders on our migrated schema.
    /// (InProcessTestCluster always uses its own membership table, so this one is a TestCluster.)
    /// </summary>
    public static async Task<TestCluster> StartOnPostgresAsync(string postgres, short silos = 1, string? serviceId = null)
    {
        var builder = new TestClusterBuilder(silos);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ConfigureFileLogging = false;
        builder.Options.ServiceId = serviceId ?? builder.Options.ServiceId;
        builder.ConfigureHostConfiguration(configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = postgres,
        }));
        builder.AddSiloBuilderConfigurator<CryptoPaySilo>();
        builder.AddClientBuilderConfigurator<PostgresClient>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>The embedded default (memory grain state, in-memory reminders) in one in-process silo.</summary>
    public static async Task<InProcessTestCluster> StartEmbeddedAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((_, host) => host.UseOrleans(silo => silo.ConfigureCryptoPay(host.Configuration)));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class CryptoPaySilo : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder.ConfigureCryptoPay(siloBuilder.Configuration);
    }

    private sealed class PostgresClient : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseAdoNetClustering(o =>
            {
                o.Invariant = OrleansHosting.AdoNetInvariant;
                o.ConnectionString = configuration.GetConnectionString("Postgres");
            });
    }
}
