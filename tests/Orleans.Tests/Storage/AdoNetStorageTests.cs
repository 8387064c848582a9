using CryptoPay.OrleansProcessHost;
using CryptoPay.TestSupport.Postgres;
using Npgsql;
using Orleans.Storage;

namespace CryptoPay.OrleansTests.Storage;

/// <summary>Grain state through Microsoft.Orleans.Persistence.AdoNet on our schema, on a real PostgreSQL.</summary>
[Collection("postgres")]
public sealed class AdoNetStorageTests(PostgresFixture postgres)
{
    [Fact]
    public async Task State_round_trips_and_survives_a_full_cluster_restart()
    {
        var database = await postgres.CreateDatabaseAsync();
        var serviceId = $"svc-{Guid.NewGuid():N}";
        var key = $"ctr:{Guid.NewGuid():N}";

        await using (var first = await OrleansTestCluster.StartOnPostgresAsync(database, serviceId: serviceId))
        {
            var counter = first.Client.GetGrain<ICounterGrain>(key);
            await counter.AddAsync(5);
            var written = await counter.AddAsync(-5);
            Assert.Equal(0, written.Total);
            Assert.Equal("2", written.ETag);
            await first.StopAllSilosAsync();
        }

        await using var second = await OrleansTestCluster.StartOnPostgresAsync(database, serviceId: serviceId);
        var reread = await second.Client.GetGrain<ICounterGrain>(key).ReadAsync();

        Assert.Equal(0, reread.Total);
        Assert.Equal("2", reread.ETag);
        Assert.Equal(1L, await ScalarAsync<long>(database, "SELECT count(*) FROM orleans_grain_state WHERE state_name = 'test-counter'"));
    }

    [Fact]
    public async Task Two_grain_classes_with_one_key_keep_separate_rows_under_distinct_state_names()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var cluster = await OrleansTestCluster.StartOnPostgresAsync(database);
        var key = $"shared:{Guid.NewGuid():N}";

        await cluster.Client.GetGrain<ICounterGrain>(key).AddAsync(1);
        await cluster.Client.GetGrain<ITallyGrain>(key).AddAsync(40);

        Assert.Equal(1, (await cluster.Client.GetGrain<ICounterGrain>(key).ReadAsync()).Total);
        Assert.Equal(40, (await cluster.Client.GetGrain<ITallyGrain>(key).ReadAsync()).Total);
        Assert.Equal(2L, await ScalarAsync<long>(database, "SELECT count(DISTINCT state_name) FROM orleans_grain_state"));
    }

    [Fact]
    public async Task Two_grain_classes_with_one_key_and_one_state_name_share_a_row()
    {
        // The fact that makes every grain class need its own state name: the provider keys rows by
        // state name and grain key, not by grain class (dotnet/orleans #8746).
        var database = await postgres.CreateDatabaseAsync();
        await using var cluster = await OrleansTestCluster.StartOnPostgresAsync(database);
        var key = $"collide:{Guid.NewGuid():N}";

        await cluster.Client.GetGrain<ICounterGrain>(key).AddAsync(7);
        var colliding = await cluster.Client.GetGrain<ICollidingGrain>(key).ReadAsync();

        Assert.Equal(7, colliding.Total);
        Assert.Equal(1L, await ScalarAsync<long>(database, "SELECT count(*) FROM orleans_grain_state"));
    }

    [Fact]
    public async Task A_write_from_a_stale_etag_fails_with_InconsistentStateException()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var cluster = await OrleansTestCluster.StartOnPostgresAsync(database);
        var counter = cluster.Client.GetGrain<ICounterGrain>($"stale:{Guid.NewGuid():N}");
        await counter.AddAsync(1);

        // Another writer (a duplicate activation, an operator) moved the row on behind this activation's back.
        await ScalarAsync<int>(database, "UPDATE orleans_grain_state SET version = version + 1 RETURNING version");

        await Assert.ThrowsAsync<InconsistentStateException>(() => counter.AddAsync(1));
        // The failed activation is gone; the next one reads the row as it now is and writes on top of it.
        var retried = await counter.AddAsync(1);
        Assert.Equal(2, retried.Total);
        Assert.Equal("3", retried.ETag);
    }

    private static async Task<T> ScalarAsync<T>(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
