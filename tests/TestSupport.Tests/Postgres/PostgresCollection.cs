using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.TestSupport.Tests.Postgres;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
