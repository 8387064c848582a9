using System.Reflection;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Storage;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.Grains.Tests.Storage;

/// <summary>
/// The schema migrator every silo runs at start-up (moved from the retired src/Runtime with its lock and table):
/// each script once, whoever applies it, however many at once; a database it migrated before keeps its history.
/// </summary>
[Collection("postgres")]
public sealed class PostgresMigratorTests(PostgresFixture postgres)
{
    private static readonly IMigrationSource TestSchema =
        new EmbeddedMigrations(typeof(PostgresMigratorTests).Assembly, "migrator-tests", "CryptoPay.Grains.Tests.Storage.Migrations.");

    [Fact]
    public async Task Silos_starting_together_apply_each_migration_once()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());

        var appliers = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            Task.Run(() => PostgresMigrator.ApplyAsync(dataSource, [TestSchema], CancellationToken.None))));

        Assert.Single(appliers, applied => applied.Count > 0);
        Assert.Equal([("migrator-tests", 1, 1L)], await HistoryAsync(dataSource));
        Assert.Empty(await PostgresMigrator.ApplyAsync(dataSource, [TestSchema], CancellationToken.None));
        await using var insert = dataSource.CreateCommand("INSERT INTO test_counters (grain_key, value, updated_at) VALUES ('a', 1, now())");
        Assert.Equal(1, await insert.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task A_database_migrated_by_the_retired_runtime_keeps_its_history()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        // What src/Runtime's migrator left behind: its tracking table with the rows of the scripts it ran.
        await using (var earlier = dataSource.CreateCommand(
            """
            CREATE TABLE cp_schema_migrations (
                source text NOT NULL, version integer NOT NULL, name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (source, version));
            INSERT INTO cp_schema_migrations (source, version, name) VALUES ('runtime', 1, 'grains'), ('migrator-tests', 1, 'test_counters');
            CREATE TABLE test_counters (grain_key text PRIMARY KEY);
            """))
        {
            await earlier.ExecuteNonQueryAsync();
        }

        Assert.Empty(await PostgresMigrator.ApplyAsync(dataSource, [TestSchema], CancellationToken.None));
        Assert.Equal([("migrator-tests", 1, 1L), ("runtime", 1, 1L)], await HistoryAsync(dataSource));
    }

    [Fact]
    public async Task A_failing_script_leaves_nothing_behind_and_is_applied_once_fixed()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var broken = new FixedMigrations("fixable", new Migration("fixable", 1, "table", "CREATE TABLE fixable (id int); SELECT no_such_function();"));

        await Assert.ThrowsAsync<PostgresException>(() => PostgresMigrator.ApplyAsync(dataSource, [broken], CancellationToken.None));
        Assert.Empty(await HistoryAsync(dataSource));

        var fixedSource = new FixedMigrations("fixable", new Migration("fixable", 1, "table", "CREATE TABLE fixable (id int);"));
        Assert.Single(await PostgresMigrator.ApplyAsync(dataSource, [fixedSource], CancellationToken.None));
        Assert.Equal([("fixable", 1, 1L)], await HistoryAsync(dataSource));
    }

    [Fact]
    public void Scripts_are_numbered_once_and_named_NNNN_description()
    {
        var migrations = TestSchema.GetMigrations();

        Assert.Equal([(1, "test_counters")], migrations.Select(m => (m.Version, m.Name)));
        var misnamed = new EmbeddedMigrations(Assembly.GetExecutingAssembly(), "misnamed", "CryptoPay.Grains.Tests.Storage.");
        Assert.Contains("must be named NNNN_description.sql", Assert.Throws<InvalidOperationException>(misnamed.GetMigrations).Message);
    }

    /// <summary>
    /// Invoices stored before the pending-effects table held their pending effects in their state only: the migration
    /// that creates it gives each of those a row (retried at its stored wake time), and none to an invoice with nothing pending.
    /// </summary>
    [Fact]
    public async Task Invoices_stored_with_effects_pending_before_their_table_existed_are_pending_after_it()
    {
        await using var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var grains = InvoiceProjection.Migrations.GetMigrations();
        var before = grains.Where(m => m.Version < 11).ToArray();
        await PostgresMigrator.ApplyAsync(dataSource, [new FixedMigrations("grains", before)], CancellationToken.None);
        await using (var insert = dataSource.CreateCommand(
            """
            INSERT INTO invoices (grain_key, version, state, merchant_id, mode, status, currency, networks, amount, reporting_currency,
                amount_reporting, created_at, updated_at, expires_at, wake_at)
            SELECT key, version, state::json, gen_random_uuid(), 'test', 'pending', 'USD', '[]', 1, 'USD', 1, now(), now(), now(), wake_at
            FROM (VALUES
                ('sent', 3, '{"outbox":{"pending":[{"kind":"publish_invoice_events"}]}}', timestamptz '2026-12-05 05:00:00+00'),
                ('quiet', 2, '{"outbox":{"pending":[]}}', timestamptz '2026-12-05 06:00:00+00')) AS r (key, version, state, wake_at)
            """))
        {
            await insert.ExecuteNonQueryAsync();
        }

        Assert.Single(await PostgresMigrator.ApplyAsync(dataSource, [InvoiceProjection.Migrations], CancellationToken.None));

        await using var command = dataSource.CreateCommand($"SELECT grain_key, version, retry_at FROM {InvoiceProjection.PendingEffectsTable}");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(("sent", 3L, new DateTimeOffset(2026, 12, 5, 5, 0, 0, TimeSpan.Zero)), (reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2)));
        Assert.False(await reader.ReadAsync());
    }

    private static async Task<List<(string, int, long)>> HistoryAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT source, version, count(*) FROM cp_schema_migrations GROUP BY source, version ORDER BY source, version");
        await using var reader = await command.ExecuteReaderAsync();
        var applied = new List<(string, int, long)>();
        while (await reader.ReadAsync())
        {
            applied.Add((reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2)));
        }

        return applied;
    }

    private sealed class FixedMigrations(string source, params Migration[] migrations) : IMigrationSource
    {
        public string Source => source;

        public IReadOnlyList<Migration> GetMigrations() => migrations;
    }
}
