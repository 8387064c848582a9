using CryptoPay.Grains.Hosting;
using Npgsql;
using Orleans;

namespace CryptoPay.Grains.Tests.Hosting;

[Alias("test.database-failing")]
public interface IDatabaseFailingGrain : IGrainWithGuidKey
{
    /// <summary>Fails as a grain does whose store refused the connection.</summary>
    Task Fail(string sqlState);
}

public sealed class DatabaseFailingGrain : Grain, IDatabaseFailingGrain
{
    public Task Fail(string sqlState) => throw new PostgresException("sorry, too many clients already", "FATAL", "FATAL", sqlState);
}

public sealed class StoreFailuresTests : IAsyncLifetime
{
    private GatewayCluster cluster = null!;

    public async Task InitializeAsync() => cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions());

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    [Fact]
    public async Task A_database_failure_in_a_grain_reaches_the_caller_as_an_outage_it_can_recognise()
    {
        // Npgsql's exception does not cross to a client or another silo (it arrived as CodecNotFoundException and the
        // API answered 500); the translated one does, with the server's code.
        var error = await Assert.ThrowsAsync<StoreUnavailableException>(() => cluster.Grains.GetGrain<IDatabaseFailingGrain>(Guid.NewGuid()).Fail("53300"));

        Assert.Equal("53300", error.SqlState);
        Assert.Contains("too many clients", error.Message, StringComparison.Ordinal);
    }
}
