using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.TestSupport.Tests.Postgres;

[Collection("postgres")]
public sealed class PostgresServerTests(PostgresFixture postgres)
{
    [Fact]
    public async Task CreateDatabaseAsync_GivesEachCallItsOwnEmptyDatabase()
    {
        var first = await postgres.CreateDatabaseAsync();
        var second = await postgres.CreateDatabaseAsync();

        await Sql.ExecuteAsync(first, "CREATE TABLE payments (id int PRIMARY KEY); INSERT INTO payments VALUES (1);");

        Assert.NotEqual(
            await Sql.ScalarAsync<string>(first, "SELECT current_database()"),
            await Sql.ScalarAsync<string>(second, "SELECT current_database()"));
        Assert.Equal(1L, await Sql.ScalarAsync<long>(first, "SELECT count(*) FROM payments"));
        Assert.Equal(0L, await Sql.ScalarAsync<long>(second, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"));
    }

    [Fact]
    public async Task CreateDatabaseAsync_UsesTheGivenName()
    {
        var name = $"named_{Guid.NewGuid():N}";

        var connectionString = await postgres.CreateDatabaseAsync(name);

        Assert.Equal(name, await Sql.ScalarAsync<string>(connectionString, "SELECT current_database()"));
    }

    [Theory]
    [InlineData("Invoices")]
    [InlineData("drop table x; --")]
    [InlineData("9lives")]
    [InlineData("trailing_newline\n")]
    public async Task CreateDatabaseAsync_RejectsNamesThatAreNotPlainIdentifiers(string name)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => postgres.CreateDatabaseAsync(name));
    }

    [Fact]
    public async Task RestartAsync_Fast_KeepsDatabasesRowsAndPort()
    {
        var server = postgres.Server;
        var database = await postgres.CreateDatabaseAsync();
        await Sql.ExecuteAsync(database, "CREATE TABLE invoices (id text PRIMARY KEY); INSERT INTO invoices VALUES ('inv-1');");
        var port = server.Port;
        var startedBefore = await PostmasterStartTimeAsync(server);

        await server.RestartAsync(immediate: false);

        Assert.Equal(port, server.Port);
        Assert.NotEqual(startedBefore, await PostmasterStartTimeAsync(server));
        Assert.Equal("inv-1", await Sql.ScalarAsync<string>(database, "SELECT id FROM invoices"));
    }

    [Fact]
    public async Task RestartAsync_Immediate_KeepsCommittedRowsAndLosesUncommittedOnes()
    {
        var server = postgres.Server;
        var database = await postgres.CreateDatabaseAsync();
        await Sql.ExecuteAsync(database, "CREATE TABLE ledger (entry text PRIMARY KEY); INSERT INTO ledger VALUES ('committed');");
        var startedBefore = await PostmasterStartTimeAsync(server);
        var recoveriesBefore = RecoveryCount(server);

        await using (var open = new NpgsqlConnection(database))
        {
            await open.OpenAsync();
            await using var transaction = await open.BeginTransactionAsync();
            await using (var insert = new NpgsqlCommand("INSERT INTO ledger VALUES ('in flight')", open, transaction))
            {
                await insert.ExecuteNonQueryAsync();
            }

            await server.RestartAsync(immediate: true);
        }

        Assert.NotEqual(startedBefore, await PostmasterStartTimeAsync(server));
        // An immediate stop skips the shutdown checkpoint, so the server must have replayed its WAL.
        Assert.Equal(recoveriesBefore + 1, RecoveryCount(server));
        Assert.Equal(["committed"], await EntriesAsync(database));
    }

    [Fact]
    public async Task StopAsync_RefusesConnectionsUntilStartAgainAsync()
    {
        var server = postgres.Server;
        var database = await postgres.CreateDatabaseAsync();
        await Sql.ExecuteAsync(database, "CREATE TABLE ledger (entry text PRIMARY KEY); INSERT INTO ledger VALUES ('before stop');");

        await server.StopAsync();
        try
        {
            Assert.False(server.IsRunning);
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => Sql.ScalarAsync<string>(database, "SELECT 1"));
        }
        finally
        {
            await server.StartAgainAsync();
        }

        Assert.True(server.IsRunning);
        Assert.Equal(["before stop"], await EntriesAsync(database));
    }

    private static int RecoveryCount(PostgresServer server) =>
        server.Log.Split('\n').Count(line => line.Contains("automatic recovery in progress", StringComparison.Ordinal));

    private static Task<DateTime> PostmasterStartTimeAsync(PostgresServer server) =>
        Sql.ScalarAsync<DateTime>(server.ConnectionString, "SELECT pg_postmaster_start_time()");

    private static async Task<List<string>> EntriesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT entry FROM ledger ORDER BY entry", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var entries = new List<string>();
        while (await reader.ReadAsync())
        {
            entries.Add(reader.GetString(0));
        }

        return entries;
    }
}
