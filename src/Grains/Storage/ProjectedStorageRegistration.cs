using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Runtime.Hosting;

namespace CryptoPay.Grains.Storage;

public static class ProjectedStorageRegistration
{
    /// <summary>
    /// Registers <see cref="ProjectedGrainStorage.Name"/> for <paramref name="projections"/>: on PostgreSQL when
    /// <paramref name="dataSource"/> is given (its tables created by migrations), else in memory. The concrete storage
    /// is also registered as itself, for the list queries that read it.
    /// </summary>
    public static IServiceCollection AddProjectedGrainStorage(this IServiceCollection services, NpgsqlDataSource? dataSource, IReadOnlyList<TableProjection> projections) =>
        services.AddProjectedGrainStorage(_ => dataSource, projections);

    /// <inheritdoc cref="AddProjectedGrainStorage(IServiceCollection, NpgsqlDataSource?, IReadOnlyList{TableProjection})"/>
    public static IServiceCollection AddProjectedGrainStorage(this IServiceCollection services, Func<IServiceProvider, NpgsqlDataSource?> dataSource, IReadOnlyList<TableProjection> projections)
    {
        services.TryAddSingleton<ProjectedGrainStorage>(sp => dataSource(sp) is { } postgres
            ? new PostgresProjectedGrainStorage(postgres, projections, sp.GetService<ILoggerFactory>()?.CreateLogger<PostgresProjectedGrainStorage>())
            : new MemoryProjectedGrainStorage(projections));
        services.AddGrainStorage(ProjectedGrainStorage.Name, (sp, _) => sp.GetRequiredService<ProjectedGrainStorage>());
        return services;
    }
}
