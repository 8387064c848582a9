using System.Data.Common;
using System.Net.Sockets;
using CryptoPay.Runtime.Hosting;
using CryptoPay.Silo.Health;
using RuntimeSilo = CryptoPay.Runtime.Silo;

namespace CryptoPay.Silo.Hosting;

/// <summary>
/// The composition root of a silo process. The executable and the test hosts that must behave
/// exactly like it (tests/Runtime.ProcessHost) compose themselves with these methods.
/// </summary>
public static class SiloHostingExtensions
{
    /// <summary>How long a SIGTERM or Ctrl-C stop may take: long enough for the silo to drain its turns and give back its leases.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Adds the grain runtime (PostgreSQL when ConnectionStrings:Postgres is set, else in memory),
    /// the "Silo" settings, health checks and error responses. A bad setting throws here, before
    /// anything starts. Add grains to the returned builder.
    /// </summary>
    public static GrainRuntimeBuilder AddCryptoPaySilo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configuration = builder.Configuration;
        SiloConfiguration.Validate(configuration);

        var services = builder.Services;
        services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        var runtime = services.AddGrainRuntime(configuration);
        services.Configure<SiloOptions>(o => SiloConfiguration.Apply(configuration, o));
        // API.md: every field on the silo's HTTP surface, operator endpoints included, is snake_case.
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
        services.AddProblemDetails();
        services.AddExceptionHandler<UnavailableExceptionHandler>();
        services.AddSiloHealthChecks();
        return runtime;
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
    /// Reaches (and migrates) the store before the HTTP port opens, so an unreachable database stops
    /// start-up with one clear line; then serves until SIGTERM or Ctrl-C and stops gracefully.
    /// </summary>
    public static async Task RunCryptoPaySiloAsync(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var silo = app.Services.GetRequiredService<RuntimeSilo>();
        try
        {
            await silo.Store.InitializeAsync(app.Lifetime.ApplicationStopping);
        }
        catch (Exception error) when (error is DbException or SocketException or TimeoutException)
        {
            throw new SiloStartupException($"cannot reach the {silo.Store.Name} store: {error.Message}", error);
        }

        await app.RunAsync();
    }
}
