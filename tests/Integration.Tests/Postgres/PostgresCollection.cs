using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Integration.Tests.Postgres;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;
