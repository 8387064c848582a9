using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Postgres;
using CryptoPay.Runtime.Tests.Grains;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.Runtime.Tests.Conformance;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;

[Collection("postgres")]
public sealed class PostgresStoreConformanceTests(PostgresFixture postgres) : RuntimeConformanceTests
{
    private readonly List<NpgsqlDataSource> dataSources = [];

    protected override async Task<IGrainStore> CreateStoreAsync()
    {
        var dataSource = PostgresGrainStore.CreateDataSource(await postgres.CreateDatabaseAsync());
        dataSources.Add(dataSource);
        return new PostgresGrainStore(dataSource, [CounterGrain.Migrations]);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        foreach (var dataSource in dataSources)
        {
            await dataSource.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_change_missed_while_the_feed_was_disconnected_is_not_hidden_by_the_reconnected_feed()
    {
        var cluster = await StartClusterAsync(silos: 2);
        var feed = cluster.Silos[1].Changes;
        var onSilo0 = cluster.FactoryOf(0).GetGrain<ICounterGrain>("reconnect");
        var onSilo1 = cluster.FactoryOf(1).GetGrain<ICounterGrain>("reconnect");
        await onSilo0.Add(1);
        await feed.WhenCaughtUpAsync(cluster.Time.GetUtcNow(), CancellationToken.None);
        Assert.Equal(1, await onSilo1.GetShared());

        var connections = feed.Connections;
        await using (var terminate = ((PostgresGrainStore)cluster.Store).DataSource.CreateCommand(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()"))
        {
            await terminate.ExecuteNonQueryAsync();
        }

        await feed.WhenAsync(() => !feed.IsConnected || feed.Connections > connections, CancellationToken.None);
        await onSilo0.Add(1);
        await feed.WhenAsync(() => feed.Connections > connections, CancellationToken.None);
        await cluster.AdvanceTimeAsync(TimeSpan.FromSeconds(2));
        await feed.WhenCaughtUpAsync(cluster.Time.GetUtcNow(), CancellationToken.None);
        Assert.Equal(2, await onSilo1.GetShared());
        Assert.Equal(2, await onSilo1.GetCached());
    }

    [Fact]
    public void A_change_the_feed_cannot_name_is_announced_as_anything_may_have_changed()
    {
        Assert.Equal("c|7|test-counter|a|b", PostgresChangeFeed.ChangePayload(new GrainId("test-counter", "a|b"), 7));
        Assert.Equal("x", PostgresChangeFeed.ChangePayload(new GrainId("test-counter", new string('k', 7000)), 7));
        Assert.Equal("x", PostgresChangeFeed.ChangePayload(new GrainId("odd|type", "a"), 7));
    }

    protected override async Task<(long Value, string? Label)?> ReadProjectedCounterAsync(IGrainStore store, string key)
    {
        await using var command = ((PostgresGrainStore)store).DataSource.CreateCommand("SELECT value, label FROM test_counters WHERE grain_key = $1");
        command.Parameters.Add(new() { Value = key });
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : null;
    }
}
