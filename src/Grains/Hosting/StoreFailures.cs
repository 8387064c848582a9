using System.Data.Common;
using System.Net.Sockets;
using Npgsql;
using Orleans;

namespace CryptoPay.Grains.Hosting;

/// <summary>
/// A grain call failed because the database did not serve it (unreachable, restarting, out of connections). Unlike
/// Npgsql's exceptions, which Orleans cannot carry to a caller on another silo or the API, this one crosses silos, so
/// the caller still learns that the failure is an outage to retry (the API answers 503 with Retry-After).
/// </summary>
[GenerateSerializer]
[Alias("cryptopay.store-unavailable")]
public sealed class StoreUnavailableException(string message, string? sqlState) : Exception(message)
{
    /// <summary>PostgreSQL's error code (SQLSTATE) when the server answered with one.</summary>
    [Id(0)]
    public string? SqlState { get; } = sqlState;
}

/// <summary>Turns a database failure leaving a grain call into <see cref="StoreUnavailableException"/>; registered on every silo.</summary>
internal sealed class StoreFailures : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception error) when (error is DbException or SocketException)
        {
            var sqlState = (error as PostgresException)?.SqlState;
            throw new StoreUnavailableException($"The database did not serve {context.InterfaceName}.{context.MethodName}: {error.Message}", sqlState);
        }
    }
}
