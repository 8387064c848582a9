using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Memory;
using CryptoPay.Runtime.Storage.Postgres;
using Npgsql;

namespace CryptoPay.Grains.Hosting;

/// <summary>Picks the implementation of a projection query that matches the store the silo runs on.</summary>
public static class StoreQueries
{
    public static TQuery For<TQuery>(IGrainStore store, Func<NpgsqlDataSource, TQuery> postgres, Func<MemoryGrainStore, TQuery> memory, string what) => store switch
    {
        PostgresGrainStore postgresStore => postgres(postgresStore.DataSource),
        MemoryGrainStore memoryStore => memory(memoryStore),
        _ => throw new InvalidOperationException($"No {what} query for the {store.Name} store."),
    };
}
