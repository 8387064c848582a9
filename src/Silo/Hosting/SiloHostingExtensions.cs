using CryptoPay.Silo.Health;
using Npgsql;

namespace CryptoPay.Silo.Hosting;

/// <summary>
/// The composition root of a silo process: the executable and the test hosts that must behave exactly like it
/// compose themselves with these methods.
/// </summary>
public static class SiloHostingExtensions
{
    /// <summary>How long a SIGTERM or Ctrl-C stop may take: long enough for Orleans to deactivate its grains and leave the cluster.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Adds the "Silo" settings (roles), the data source of projected storage when ConnectionStrings:Postgres is set,
    /// health checks and error responses. A bad setting throws here, before anything starts. Orleans itself is added
    /// by <see cref="OrleansHosting.UseCryptoPayOrleans"/>.
    /// </summary>
    public static WebApplicationBuilder AddCryptoPaySilo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        var roles = SiloConfiguration.Read(configuration);
        var settings = OrleansSettings.Read(configuration);

        var services = builder.Services;
        services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        services.AddSingleton(roles);
        if (settings.Postgres is { } postgres)
        {
            // One pool for the silo's own SQL (projected grain state, list queries); the schema is migrated at start-up
            // by OrleansSchemaMigration. Orleans' ADO.NET providers keep their own pools by connection string.
            services.AddSingleton(_ => CreateDataSource(postgres));
        }

        // API.md: every field on the silo's HTTP surface, operator endpoints included, is snake_case.
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
        services.AddProblemDetails();
        services.AddExceptionHandler<UnavailableExceptionHandler>();
        services.AddSiloHealthChecks();
        return builder;
    }

    /// <summary>
    /// The data source of projected storage: connections are not reset when they go back to the pool. Npgsql would
    /// otherwise run seven statements (RESET ALL, DISCARD TEMP, ...) on each open; our SQL leaves no session state behind
    /// (the migrator releases its advisory lock in a finally), so the reset was pure cost, measured at ~40 % of a grain
    /// write. Statements are not auto-prepared: after a write PostgreSQL refused (a NUL in jsonb), an auto-preparing
    /// connector answered a later command with "Received unexpected backend message DataRow" (ProjectedGrainStorageTests,
    /// issue 13 item 1; npgsql/npgsql#6391 reports the same corruption of auto-prepared statements after an error). The
    /// projected storage prepares its statements explicitly instead (<c>StatementBatcher</c>).
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        return builder.Build();
    }

    /// <summary>Maps the health endpoints: /health/live and /health/ready.</summary>
    public static WebApplication MapCryptoPaySilo(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.MapSiloHealth();
        return app;
    }

    /// <summary>
    /// Serves until SIGTERM or Ctrl-C and stops gracefully. On PostgreSQL the schema is migrated before any hosted
    /// service starts (OrleansSchemaMigration, a hosted lifecycle service), so before the HTTP port opens and
    /// before Orleans joins the cluster: an unreachable database stops start-up with one clear line.
    /// </summary>
    public static Task RunCryptoPaySiloAsync(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.RunAsync();
    }
}
