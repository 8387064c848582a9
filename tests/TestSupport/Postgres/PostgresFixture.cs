using Xunit;

namespace CryptoPay.TestSupport.Postgres;

/// <summary>
/// One real PostgreSQL server per xunit test collection, started before the collection's first test and
/// disposed (process stopped, data directory deleted) after its last.
/// </summary>
/// <remarks>
/// xunit only discovers collection definitions in the test assembly itself, so each test assembly declares:
/// <code>
/// [CollectionDefinition("postgres")]
/// public sealed class PostgresCollection : ICollectionFixture&lt;PostgresFixture&gt;;
/// </code>
/// and its test classes take the fixture in their constructor under <c>[Collection("postgres")]</c>.
/// Give each test its own database with <see cref="CreateDatabaseAsync"/>; tests in one collection run one
/// at a time, so a test may also stop or restart <see cref="Server"/>.
/// </remarks>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? server;

    /// <summary>The running server; valid between <see cref="InitializeAsync"/> and <see cref="DisposeAsync"/>.</summary>
    public PostgresServer Server =>
        server ?? throw new InvalidOperationException("The PostgreSQL fixture has not been initialized by xunit yet.");

    /// <summary>Connection string to the server's <c>postgres</c> database.</summary>
    public string ConnectionString => Server.ConnectionString;

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public Task<string> CreateDatabaseAsync(string? name = null, CancellationToken ct = default) =>
        Server.CreateDatabaseAsync(name, ct);

    public async Task InitializeAsync() => server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (server is not null)
        {
            await server.DisposeAsync();
        }
    }
}
