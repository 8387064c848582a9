using CryptoPay.Runtime.Bench.Grains;
using CryptoPay.Runtime.Bench.Measurement;
using CryptoPay.Runtime.Hosting;
using CryptoPay.Runtime.Storage.Postgres;
using CryptoPay.Runtime.Testing;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CryptoPay.Runtime.Bench.Hosting;

/// <summary>
/// A TestCluster on the system clock over a fresh PostgreSQL database, with the bench grains and a
/// fire-lag collector singleton. The bench's own queries use a separate pool so they never queue
/// behind the silos' connections.
/// </summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    private readonly NpgsqlDataSource storeSource;
    private readonly RoundTripCounter roundTrips;

    private BenchCluster(TestCluster cluster, NpgsqlDataSource storeSource, NpgsqlDataSource monitor, FireLagCollector collector, string poolName, RoundTripCounter roundTrips)
    {
        Cluster = cluster;
        PoolName = poolName;
        this.roundTrips = roundTrips;
        this.storeSource = storeSource;
        Monitor = monitor;
        Collector = collector;
    }

    public TestCluster Cluster { get; }

    /// <summary>Pool for the bench's own checks (outbox size, sums), apart from the store's pool.</summary>
    public NpgsqlDataSource Monitor { get; }

    public FireLagCollector Collector { get; }

    /// <summary>Name of the store's data source, under which its round trips are counted.</summary>
    public string PoolName { get; }

    /// <summary>Round trips of the silos (the store's pool only, not the bench's own queries).</summary>
    public RoundTrips StoreRoundTrips => roundTrips.Of(PoolName);

    public int SiloCount => Cluster.Silos.Count;

    /// <param name="warmPool">
    /// Open the pool's connections before the measured work: for bursts that would otherwise pay for backend
    /// start-ups inside the window. Not for the closed loop, whose warm-up grows the pool to its own size: Npgsql
    /// hands idle connections out in turn, and on a 100-connection pool the turns ran ~18 % slower here.
    /// </param>
    public static async Task<BenchCluster> StartAsync(PostgresServer server, int silos, string poolName, RoundTripCounter roundTrips, bool warmPool, CancellationToken ct)
    {
        var connectionString = await server.CreateDatabaseAsync(ct: ct).ConfigureAwait(false);
        var storeBuilder = new NpgsqlDataSourceBuilder(connectionString) { Name = poolName };
        BenchSettings.ApplyStorePoolSettings(storeBuilder.ConnectionStringBuilder);
        var storeSource = storeBuilder.Build();
        var monitor = NpgsqlDataSource.Create(connectionString);
        var collector = new FireLagCollector();
        var cluster = await TestCluster.StartAsync(
            new TestClusterOptions
            {
                Silos = silos,
                Store = new PostgresGrainStore(storeSource),
                Clock = null,
                Grains = registry => registry
                    .Add<ICounterGrain, CounterGrain>()
                    .Add<IReminderProbeGrain, ReminderProbeGrain>()
                    .Add<ISenderGrain, SenderGrain>()
                    .Add<IReceiverGrain, ReceiverGrain>(),
                Services = services => services.AddSingleton(collector),
            },
            ct).ConfigureAwait(false);
        if (warmPool)
        {
            await WarmPoolAsync(storeSource, new NpgsqlConnectionStringBuilder(connectionString).MaxPoolSize, ct).ConfigureAwait(false);
        }

        return new BenchCluster(cluster, storeSource, monitor, collector, poolName, roundTrips);
    }

    /// <summary>
    /// Opens the store pool's connections up front, as a silo in service has them. Otherwise the first burst
    /// pays for ~100 PostgreSQL backend start-ups inside the measured window (about 0.3 s of CPU on this machine).
    /// </summary>
    private static async Task WarmPoolAsync(NpgsqlDataSource source, int connections, CancellationToken ct)
    {
        var opening = Enumerable.Range(0, connections).Select(_ => source.OpenConnectionAsync(ct).AsTask()).ToArray();
        try
        {
            await Task.WhenAll(opening).ConfigureAwait(false);
        }
        finally
        {
            foreach (var open in opening.Where(o => o.IsCompletedSuccessfully))
            {
                await open.Result.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public IReadOnlyList<SiloMetrics> Metrics => [.. Cluster.Silos.Select(s => s.Metrics)];

    public long RemindersFired => Metrics.Sum(m => m.RemindersFired);

    public long MessagesDelivered => Metrics.Sum(m => m.MessagesDelivered);

    /// <summary>Rows in the outbox, and of those the ones whose delivery already failed at least once.</summary>
    public async Task<(long Pending, long Retried)> OutboxAsync(CancellationToken ct)
    {
        await using var command = Monitor.CreateCommand("SELECT count(*), count(*) FILTER (WHERE attempts > 0) FROM cp_messages");
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await reader.ReadAsync(ct).ConfigureAwait(false);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    public async Task<long> ScalarAsync(string sql, CancellationToken ct)
    {
        await using var command = Monitor.CreateCommand(sql);
        var value = await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
        return value is null or DBNull ? 0 : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync().ConfigureAwait(false);
        await storeSource.DisposeAsync().ConfigureAwait(false);
        await Monitor.DisposeAsync().ConfigureAwait(false);
    }
}
