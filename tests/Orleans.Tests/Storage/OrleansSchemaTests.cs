using CryptoPay.Grains.Hosting;
using CryptoPay.Silo.Storage;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.OrleansTests.Storage;

/// <summary>The migrations of the ADO.NET providers' schema: once each, whoever applies them, however many at once.</summary>
[Collection("postgres")]
public sealed class OrleansSchemaTests(PostgresFixture postgres)
{
    /// <summary>Every query key the three providers read (Clustering 9, Persistence 4, Reminders 7).</summary>
    private static readonly string[] ContractKeys =
    [
        "CleanupDefunctSiloEntriesKey", "DeleteMembershipTableEntriesKey", "GatewaysQueryKey", "InsertMembershipKey",
        "InsertMembershipVersionKey", "MembershipReadAllKey", "MembershipReadRowKey", "UpdateIAmAlivetimeKey", "UpdateMembershipKey",
        "ClearStorageKey", "DeleteStorageKey", "ReadFromStorageKey", "WriteToStorageKey",
        "DeleteReminderRowKey", "DeleteReminderRowsKey", "ReadRangeRows1Key", "ReadRangeRows2Key", "ReadReminderRowKey",
        "ReadReminderRowsKey", "UpsertReminderRowKey",
    ];

    [Fact]
    public async Task Silos_migrating_a_fresh_database_together_apply_each_migration_once()
    {
        var database = await postgres.CreateDatabaseAsync();
        var shipped = OrleansSchema.Migrations.GetMigrations().Select(m => m.Version).ToArray();
        // With the Orleans schema come the tables of the grains in projected storage.
        var everything = new[] { OrleansSchema.Migrations }.Concat(GrainRegistration.Migrations)
            .SelectMany(source => source.GetMigrations()).Select(m => (m.Source, m.Version)).Order().ToArray();

        var appliers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => OrleansSchema.ApplyAsync(database, CancellationToken.None))));

        Assert.Equal([1, 2, 3, 4], shipped);
        // The same run applies the projected tables' sources (grains, ledger, chains); each script once in all.
        var expected = new[] { OrleansSchema.Migrations }.Concat(GrainRegistration.Migrations)
            .SelectMany(s => s.GetMigrations()).Select(m => (m.Source, m.Version)).Order().ToArray();
        Assert.Equal(expected, appliers.SelectMany(applied => applied).Select(m => (m.Source, m.Version)).Order());
        Assert.Single(appliers, applied => applied.Count > 0);
        Assert.Equal(shipped, await ReadAsync(database, "SELECT version FROM cp_schema_migrations WHERE source = 'orleans' ORDER BY version", r => r.GetInt32(0)));
        Assert.Empty(await OrleansSchema.ApplyAsync(database, CancellationToken.None));
    }

    [Fact]
    public async Task The_schema_answers_every_query_key_the_providers_read()
    {
        var database = await postgres.CreateDatabaseAsync();
        await OrleansSchema.ApplyAsync(database, CancellationToken.None);

        var keys = await ReadAsync(database, "SELECT QueryKey FROM OrleansQuery", r => r.GetString(0));

        Assert.Equal(ContractKeys.Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
    }

    private static async Task<List<T>> ReadAsync<T>(string database, string sql, Func<NpgsqlDataReader, T> read)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
