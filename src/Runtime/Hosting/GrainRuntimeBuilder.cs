using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Memory;
using CryptoPay.Runtime.Storage.Postgres;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace CryptoPay.Runtime.Hosting;

/// <summary>Registers grains and chooses the store for the silo hosted in this process.</summary>
public sealed class GrainRuntimeBuilder(IServiceCollection services)
{
    private readonly List<IMigrationSource> migrations = [];

    public IServiceCollection Services { get; } = services;

    public GrainTypeRegistry Registry { get; } = new();

    public GrainRuntimeBuilder AddGrain<TInterface, TGrain>(StateProjection? projection = null)
        where TInterface : IGrain
        where TGrain : Grain, TInterface
    {
        Registry.Add<TInterface, TGrain>(projection);
        return this;
    }

    /// <summary>Extra schema (e.g. projection tables) applied with the runtime's migrations.</summary>
    public GrainRuntimeBuilder AddMigrations(IMigrationSource source)
    {
        migrations.Add(source);
        return this;
    }

    public GrainRuntimeBuilder UseMemoryStore()
    {
        Services.RemoveAll<IGrainStore>();
        Services.AddSingleton<IGrainStore, MemoryGrainStore>();
        return this;
    }

    public GrainRuntimeBuilder UsePostgres(string connectionString)
    {
        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"ConnectionStrings:Postgres is not a valid PostgreSQL connection string: {ex.Message}", ex);
        }

        if (string.IsNullOrWhiteSpace(parsed.Host))
        {
            throw new InvalidOperationException("ConnectionStrings:Postgres must name a Host.");
        }

        Services.RemoveAll<IGrainStore>();
        Services.AddSingleton(_ => PostgresGrainStore.CreateDataSource(parsed.ConnectionString));
        Services.AddSingleton<IGrainStore>(sp => new PostgresGrainStore(sp.GetRequiredService<NpgsqlDataSource>(), migrations));
        return this;
    }
}

public static class GrainRuntimeServiceCollectionExtensions
{
    /// <summary>
    /// Hosts one silo in this process: options from the "Silo" configuration section (validated at
    /// start-up), the store from ConnectionStrings:Postgres (in memory when absent), started and
    /// gracefully stopped with the host.
    /// </summary>
    public static GrainRuntimeBuilder AddGrainRuntime(this IServiceCollection services, IConfiguration configuration)
    {
        var builder = new GrainRuntimeBuilder(services);
        services.AddSingleton(builder.Registry);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<SiloOptions>()
            .Bind(configuration.GetSection("Silo"))
            .Validate(o =>
            {
                o.Validate();
                return true;
            })
            .ValidateOnStart();
        services.AddSingleton(sp => new Silo(
            sp.GetRequiredService<IGrainStore>(),
            sp.GetRequiredService<GrainTypeRegistry>(),
            sp.GetRequiredService<IOptions<SiloOptions>>().Value,
            sp,
            // The gateway clock (CryptoPay.Grains.Hosting.GatewayClock.Key; this project cannot reference Grains and goes with src/Runtime).
            sp.GetKeyedService<TimeProvider>("cryptopay.clock") ?? sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddSingleton(sp => sp.GetRequiredService<Silo>().GrainFactory);
        services.AddHostedService<SiloHostedService>();

        var connectionString = configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            builder.UseMemoryStore();
        }
        else
        {
            builder.UsePostgres(connectionString);
        }

        return builder;
    }
}

/// <summary>Starts the silo with the host and drains it on shutdown.</summary>
internal sealed class SiloHostedService(Silo silo) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => silo.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => silo.StopAsync(cancellationToken);
}
