using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Silo.Tests.Postgres;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
