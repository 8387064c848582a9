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

    protected override async Task<(long Value, string? Label)?> ReadProjectedCounterAsync(IGrainStore store, string key)
    {
        await using var command = ((PostgresGrainStore)store).DataSource.CreateCommand("SELECT value, label FROM test_counters WHERE grain_key = $1");
        command.Parameters.Add(new() { Value = key });
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : null;
    }
}
