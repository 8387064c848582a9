using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.OrleansTests;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
