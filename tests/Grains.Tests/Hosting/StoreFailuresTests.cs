using System.Data.Common;
using System.Net.Sockets;
using CryptoPay.Grains.Hosting;
using Npgsql;
using Orleans;
using Orleans.Runtime;

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

[Alias("test.database-unreadable")]
public interface IDatabaseUnreadableGrain : IGrainWithGuidKey
{
    Task<int> Get();
}

/// <summary>Fails in its activation, as a grain does whose state could not be read: before any call filter runs.</summary>
public sealed class DatabaseUnreadableGrain : Grain, IDatabaseUnreadableGrain
{
    public override Task OnActivateAsync(CancellationToken cancellationToken) =>
        throw new NpgsqlException("Failed to connect to 127.0.0.1:1", new SocketException((int)SocketError.ConnectionRefused));

    public Task<int> Get() => Task.FromResult(1);
}

[Alias("test.storage-wrapped-failure")]
public interface IStorageWrappedFailureGrain : IGrainWithGuidKey
{
    Task Fail();
}

/// <summary>Fails as Orleans' storage bridge reports a provider's error: Npgsql's exception inside Orleans' own.</summary>
public sealed class StorageWrappedFailureGrain : Grain, IStorageWrappedFailureGrain
{
    public Task Fail() => throw new OrleansException("Error from storage provider during WriteStateAsync", new NpgsqlException("Failed to connect to 127.0.0.1:1"));
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

    [Fact]
    public async Task A_grain_whose_activation_fails_on_the_database_reaches_the_caller_with_the_database_error()
    {
        // Seen when PostgreSQL restarted under load: the activation's state read failed, Orleans could not serialize
        // NpgsqlException for the calling silo, and the API answered 500 (CodecNotFoundException) instead of 503.
        var error = await Assert.ThrowsAnyAsync<Exception>(() => cluster.Grains.GetGrain<IDatabaseUnreadableGrain>(Guid.NewGuid()).Get());

        Assert.Contains(Causes(error), e => e is DbException);
        Assert.DoesNotContain(Causes(error), e => e is Orleans.Serialization.CodecNotFoundException);
    }

    [Fact]
    public async Task A_database_error_wrapped_in_an_Orleans_exception_reaches_the_caller()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => cluster.Grains.GetGrain<IStorageWrappedFailureGrain>(Guid.NewGuid()).Fail());

        Assert.Contains(Causes(error), e => e is DbException);
    }

    private static IEnumerable<Exception> Causes(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
