using CryptoPay.Runtime.Storage.Postgres;
using CryptoPay.Runtime.Testing;
using CryptoPay.Runtime.Tests.Grains;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CryptoPay.Runtime.Tests.Conformance;

/// <summary>What only a real database can show: restarts, outages and silos migrating one schema at once.</summary>
[Collection("postgres")]
public sealed class PostgresOutageTests(PostgresFixture postgres) : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> owned = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var item in Enumerable.Reverse(owned))
        {
            await item.DisposeAsync();
        }
    }

    [Fact]
    public async Task Acknowledged_turns_survive_a_database_crash_and_turns_resume_after_it()
    {
        var cluster = await StartClusterAsync(await postgres.CreateDatabaseAsync());
        for (var i = 0; i < 20; i++)
        {
            await cluster.FactoryOf(i % 2).GetGrain<ICounterGrain>($"crash-{i}").Add(i + 1);
        }

        await postgres.Server.RestartAsync(immediate: true);

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(i + 1, await cluster.FactoryOf((i + 1) % 2).GetGrain<ICounterGrain>($"crash-{i}").Get());
            Assert.Equal(i + 2, await cluster.FactoryOf(i % 2).GetGrain<ICounterGrain>($"crash-{i}").Add(1));
        }
    }

    [Fact]
    public async Task A_turn_waits_out_a_database_outage_and_commits_once()
    {
        var cluster = await StartClusterAsync(await postgres.CreateDatabaseAsync());
        var counter = cluster.Client.GetGrain<ICounterGrain>("outage");
        await counter.Add(1);

        await postgres.Server.StopAsync(immediate: true);
        var during = counter.Add(10);
        await postgres.Server.StartAgainAsync();

        Assert.Equal(11, await during);
        Assert.Equal(11, await counter.Get());
    }

    [Fact]
    public async Task Silos_starting_together_apply_each_migration_once()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        var stores = Enumerable.Range(0, 6).Select(_ => NewStore(connectionString)).ToList();

        await Task.WhenAll(stores.Select(s => s.InitializeAsync(CancellationToken.None)));

        await using var command = stores[0].DataSource.CreateCommand("SELECT source, version, count(*) FROM cp_schema_migrations GROUP BY source, version ORDER BY source, version");
        await using var reader = await command.ExecuteReaderAsync();
        var applied = new List<(string, int, long)>();
        while (await reader.ReadAsync())
        {
            applied.Add((reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2)));
        }

        Assert.Equal([("runtime", 1, 1L), ("runtime-tests", 1, 1L)], applied);
    }

    private PostgresGrainStore NewStore(string connectionString)
    {
        var dataSource = PostgresGrainStore.CreateDataSource(connectionString);
        owned.Add(dataSource);
        return new PostgresGrainStore(dataSource, [CounterGrain.Migrations]);
    }

    private async Task<TestCluster> StartClusterAsync(string connectionString)
    {
        var cluster = await TestCluster.StartAsync(new TestClusterOptions
        {
            Silos = 2,
            Store = NewStore(connectionString),
            Grains = TestGrainRegistration.Register,
            Services = s => s.AddSingleton(new TestControl()),
        });
        owned.Add(cluster);
        return cluster;
    }
}
