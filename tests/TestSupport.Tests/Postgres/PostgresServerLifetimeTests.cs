using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.TestSupport.Tests.Postgres;

public sealed class PostgresServerLifetimeTests
{
    [Fact]
    public async Task DisposeAsync_StopsTheServerAndDeletesItsDataDirectory()
    {
        var server = await PostgresServer.StartAsync();
        var connectionString = server.ConnectionString;
        Assert.StartsWith("/tmp/", server.DataDirectory, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(server.DataDirectory, "PG_VERSION")));
        Assert.Equal(1, await Sql.ScalarAsync<int>(connectionString, "SELECT 1"));

        await server.DisposeAsync();

        Assert.False(Directory.Exists(server.DataDirectory));
        Assert.False(server.IsRunning);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => Sql.ScalarAsync<int>(connectionString, "SELECT 1"));
        await server.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => server.StartAgainAsync());
    }

    [Fact]
    public async Task StartAsync_GivesEachServerItsOwnPortAndDataDirectory()
    {
        await using var first = await PostgresServer.StartAsync();
        await using var second = await PostgresServer.StartAsync();

        Assert.NotEqual(first.Port, second.Port);
        Assert.NotEqual(first.DataDirectory, second.DataDirectory);
        Assert.Contains($"Port={first.Port}", first.ConnectionString, StringComparison.Ordinal);
        Assert.Contains("Maximum Pool Size=100", first.ConnectionString, StringComparison.Ordinal);
        Assert.Equal(300, int.Parse(
            await Sql.ScalarAsync<string>(first.ConnectionString, "SHOW max_connections"),
            System.Globalization.CultureInfo.InvariantCulture));
    }
}
