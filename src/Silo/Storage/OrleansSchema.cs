using System.Data.Common;
using System.Net.Sockets;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Storage;
using CryptoPay.Silo.Hosting;
using Npgsql;

namespace CryptoPay.Silo.Storage;

/// <summary>
/// The PostgreSQL schema of the Orleans ADO.NET providers (clustering, grain state, reminders): our own
/// SQL in Storage/Migrations, written to the providers' OrleansQuery contract; with the tables of the grains in
/// projected storage (<see cref="GrainRegistration.Migrations"/>). Applied by <see cref="PostgresMigrator"/> (advisory
/// lock, cp_schema_migrations).
/// </summary>
public static class OrleansSchema
{
    public static IMigrationSource Migrations { get; } =
        new EmbeddedMigrations(typeof(OrleansSchema).Assembly, "orleans", "CryptoPay.Silo.Storage.Migrations.");

    /// <summary>Applies the pending migrations under the migrator's advisory lock; returns those this call applied.</summary>
    public static async Task<IReadOnlyList<Migration>> ApplyAsync(string connectionString, CancellationToken ct)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        return await PostgresMigrator.ApplyAsync(dataSource, [Migrations, .. GrainRegistration.Migrations], ct).ConfigureAwait(false);
    }
}

/// <summary>
/// Migrates the schema before any hosted service starts (so before the silo's providers read OrleansQuery);
/// an unreachable database stops start-up with one line.
/// </summary>
internal sealed class OrleansSchemaMigration(string connectionString, ILogger<OrleansSchemaMigration> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<Migration> applied;
        try
        {
            applied = await OrleansSchema.ApplyAsync(connectionString, cancellationToken);
        }
        catch (Exception error) when (error is DbException or SocketException or TimeoutException)
        {
            throw new SiloStartupException($"cannot migrate the Orleans schema on ConnectionStrings:Postgres: {error.Message}", error);
        }

        foreach (var migration in applied)
        {
            logger.LogInformation("Applied migration {Source} {Version:0000}_{Name}", migration.Source, migration.Version, migration.Name);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
