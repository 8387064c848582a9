using System.Collections.Concurrent;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Storage;
using CryptoPay.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace CryptoPay.ClusterSupport;

/// <summary>What the silos of a <see cref="GatewayGrainCluster"/> get beside the operator's hosting.</summary>
public sealed record GatewayGrainClusterOptions
{
    public int Silos { get; init; } = 2;

    public LedgerOptions Ledger { get; init; } = new();

    /// <summary>Handed to the silos' chain watchers (a runner outside the cluster subscribes to it).</summary>
    public ChainWatchSignals? Signals { get; init; }

    /// <summary>More services for every silo (a webhook sender, test grains' dependencies).</summary>
    public Action<IServiceCollection>? Services { get; init; }

    /// <summary>
    /// The gateway clock the silos read (<see cref="GatewayClock.Key"/>). Null, the default: a fake clock the caller moves
    /// (<see cref="GatewayGrainCluster.Clock"/>). <see cref="TimeProvider.System"/> for work that must happen when
    /// Orleans fires its reminders on real time (the expiry bench); <see cref="GatewayGrainCluster.AdvanceTimeAsync"/>
    /// then refuses.
    /// </summary>
    public TimeProvider? GatewayTimeProvider { get; init; }

    /// <summary>
    /// How long the cluster's client and its silos wait for a grain call's answer (null: Orleans' default, 30 s). Benches
    /// that put thousands of calls in flight on a loaded machine raise it, so a slow answer is measured, not a failure.
    /// </summary>
    public TimeSpan? ResponseTimeout { get; init; }
}

/// <summary>
/// An Orleans test cluster of the gateway's grains on a PostgreSQL database: each silo configured by the silo's own
/// hosting (<see cref="OrleansHosting.ConfigureCryptoPay"/>: ADO.NET clustering, state and reminders on our schema) with
/// the grains' services and projected storage, and a fake gateway clock the caller moves (Orleans keeps real time).
/// </summary>
public sealed class GatewayGrainCluster : IAsyncDisposable
{
    private const string ClusterKey = "CryptoPay:TestCluster";

    // Silo configurators are created by type, so each silo finds its cluster's clock and options here by the key its
    // configuration carries (silos started later, after a kill, too).
    private static readonly ConcurrentDictionary<string, (FakeTimeProvider Clock, GatewayGrainClusterOptions Options)> Clusters = new();

    private readonly NpgsqlDataSource dataSource;

    private readonly string postgres;

    private readonly string key;

    private readonly GatewayGrainClusterOptions options;

    private GatewayGrainCluster(string key, TestCluster cluster, FakeTimeProvider clock, GatewayGrainClusterOptions options, string postgres)
    {
        this.key = key;
        this.options = options;
        Cluster = cluster;
        Clock = clock;
        this.postgres = postgres;
        dataSource = NpgsqlDataSource.Create(postgres);
        Storage = new PostgresProjectedGrainStorage(dataSource, GrainRegistration.Projections);
        Ledger = LedgerQueries.For(Storage);
    }

    public TestCluster Cluster { get; }

    /// <summary>The fake gateway clock; the silos read it unless <see cref="GatewayGrainClusterOptions.GatewayTimeProvider"/> was set.</summary>
    public FakeTimeProvider Clock { get; }

    /// <summary>The gateway clock the silos read: <see cref="Clock"/>, or the one the options named.</summary>
    public TimeProvider GatewayTime => options.GatewayTimeProvider ?? Clock;

    public IGrainFactory Grains => Cluster.Client;

    /// <summary>The projected tables, read directly (as the list endpoints read them).</summary>
    public ProjectedGrainStorage Storage { get; }

    public ILedgerQuery Ledger { get; }

    public IDepositAddressDirectory Directory => DepositAddressDirectories.For(Storage);

    public static async Task<GatewayGrainCluster> StartAsync(string postgres, GatewayGrainClusterOptions? options = null)
    {
        options ??= new GatewayGrainClusterOptions();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var key = Guid.NewGuid().ToString("N");
        Clusters[key] = (clock, options);
        var builder = new TestClusterBuilder((short)options.Silos);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureHostConfiguration(configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = postgres,
            [ClusterKey] = key,
        }));
        builder.AddSiloBuilderConfigurator<GatewaySilo>();
        builder.AddClientBuilderConfigurator<PostgresClient>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new GatewayGrainCluster(key, cluster, clock, options, postgres);
    }

    /// <summary>Moves the gateway clock and runs what became due.</summary>
    public async Task AdvanceTimeAsync(TimeSpan by)
    {
        if (options.GatewayTimeProvider is not null)
        {
            throw new InvalidOperationException("This cluster's silos read a gateway clock of their own (GatewayGrainClusterOptions.GatewayTimeProvider): moving the fake one would change nothing.");
        }

        Clock.Advance(by);
        await WakeDueAsync();
    }

    /// <summary>Wakes every grain with a wake reminder: what is due by the gateway clock runs, pending effects are delivered.</summary>
    public async Task WakeDueAsync()
    {
        var silo = SiloServices;
        await DueWork.WakeAllAsync(silo.GetRequiredService<IReminderTable>(), silo.GetRequiredService<IGrainFactory>());
    }

    /// <summary>
    /// The grains as a live silo reaches them: after silos were killed, the client may still be waiting to learn of a new
    /// silo's gateway (its gateway list is refreshed once a minute), while a silo knows its cluster at once.
    /// </summary>
    public IGrainFactory SiloGrains => SiloServices.GetRequiredService<IGrainFactory>();

    /// <summary>The services of a live silo (its membership view, its reminder table).</summary>
    public IServiceProvider SiloServices => Cluster.Silos.OfType<InProcessSiloHandle>().First(s => s.IsActive).SiloHost.Services;

    /// <summary>The Npgsql data sources of the live silos and of this object (<see cref="SqlActivity"/> closes their idle connections).</summary>
    public IEnumerable<NpgsqlDataSource> DataSources =>
        Cluster.Silos.OfType<InProcessSiloHandle>().Where(s => s.IsActive).Select(s => s.SiloHost.Services.GetRequiredService<NpgsqlDataSource>()).Append(dataSource);

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await dataSource.DisposeAsync();
        Clusters.TryRemove(key, out _);
        // The silos' ADO.NET providers and the client open connections from Npgsql's global pools, kept per connection
        // string after the cluster is gone: a collection's clusters piled them up (~210 idle after 7 deposit tests, up to
        // 100 from the 1000-payment one) until PostgreSQL refused the next silo's reminder read with 53300.
        NpgsqlConnection.ClearPool(new NpgsqlConnection(postgres));
        NpgsqlConnection.ClearPool(new NpgsqlConnection(OrleansHosting.ProviderConnectionString(postgres)));
    }

    private sealed class GatewaySilo : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var (clock, options) = Clusters.TryGetValue(siloBuilder.Configuration[ClusterKey] ?? "", out var cluster)
                ? cluster
                : throw new InvalidOperationException("Silos of a GatewayGrainCluster start through GatewayGrainCluster.StartAsync.");
            var postgres = siloBuilder.Configuration.GetConnectionString("Postgres")!;
            siloBuilder.ConfigureCryptoPay(siloBuilder.Configuration);
            var services = siloBuilder.Services;
            services.AddKeyedSingleton<TimeProvider>(GatewayClock.Key, options.GatewayTimeProvider ?? clock);
            if (options.ResponseTimeout is { } timeout)
            {
                siloBuilder.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = timeout);
            }

            services.AddSingleton(options.Ledger);
            if (options.Signals is { } signals)
            {
                services.AddSingleton(signals);
            }

            // The data source a silo process registers (SiloHostingExtensions.AddCryptoPaySilo): auto-prepared statements and
            // no session reset on each pooled open, so the benches measure what production runs.
            services.AddSingleton(_ => SiloHostingExtensions.CreateDataSource(postgres));
            services.AddCryptoPayGrainServices(sp => sp.GetRequiredService<NpgsqlDataSource>());
            options.Services?.Invoke(services);
        }
    }

    private sealed class PostgresClient : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder)
        {
            clientBuilder.UseAdoNetClustering(o =>
            {
                o.Invariant = OrleansHosting.AdoNetInvariant;
                o.ConnectionString = configuration.GetConnectionString("Postgres");
            });
            if (Clusters.TryGetValue(configuration[ClusterKey] ?? "", out var cluster) && cluster.Options.ResponseTimeout is { } timeout)
            {
                clientBuilder.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = timeout);
            }
        }
    }
}
