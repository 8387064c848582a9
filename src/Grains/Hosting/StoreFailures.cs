using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans;
using Orleans.Serialization;

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
public sealed class StoreFailures : IIncomingGrainCallFilter
{
    /// <summary>
    /// Lets Orleans carry Npgsql's exceptions between silos and to clients (its exception codec takes only the
    /// namespaces it is told, by default Microsoft, System and Azure). The call filter cannot see every database failure:
    /// a grain whose state could not be read fails in its activation, before any filter runs, and a failed storage
    /// write can arrive wrapped in Orleans' own exception. Without this such a failure reached the caller as
    /// CodecNotFoundException and the API answered 500 instead of 503 while PostgreSQL restarted.
    /// Both sides of a call need it: silos (<see cref="GrainRegistration.AddCryptoPayGrainServices"/>) and clients.
    /// </summary>
    public static void AllowNpgsqlExceptions(IServiceCollection services) =>
        services.Configure<ExceptionSerializationOptions>(o => o.SupportedNamespacePrefixes.Add("Npgsql"));

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
