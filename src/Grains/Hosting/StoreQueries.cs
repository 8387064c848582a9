using CryptoPay.Grains.Storage;
using Npgsql;

namespace CryptoPay.Grains.Hosting;

/// <summary>Picks the implementation of a list query that matches the projected storage the silo runs on.</summary>
public static class StoreQueries
{
    public static TQuery For<TQuery>(ProjectedGrainStorage storage, Func<NpgsqlDataSource, TQuery> postgres, Func<MemoryProjectedGrainStorage, TQuery> memory) => storage switch
    {
        PostgresProjectedGrainStorage onPostgres => postgres(onPostgres.DataSource),
        MemoryProjectedGrainStorage inMemory => memory(inMemory),
        _ => throw new InvalidOperationException($"No {typeof(TQuery).Name} for {storage.GetType().Name}."),
    };
}
