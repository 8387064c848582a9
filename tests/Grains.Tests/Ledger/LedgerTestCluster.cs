using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Sandbox;
using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Postgres;
using CryptoPay.Runtime.Testing;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CryptoPay.Grains.Tests.Ledger;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;

/// <summary>Sends ledger messages from inside its turns, as the invoice grain does, so they commit iff the turn did.</summary>
[GrainType("test-ledger-sender")]
public interface ILedgerSenderGrain : IGrainWithStringKey
{
    Task SendCredit(DepositCredit credit, int copies);

    Task SendReverse(DepositCredit credit);
}

public sealed class LedgerSenderGrain : Grain, ILedgerSenderGrain
{
    public async Task SendCredit(DepositCredit credit, int copies)
    {
        for (var i = 0; i < copies; i++)
        {
            await Send<ILedgerOutputGrain>(credit.OutputKey).Credit(credit);
        }
    }

    public async Task SendReverse(DepositCredit credit) => await Send<ILedgerOutputGrain>(credit.OutputKey).Reverse();
}

/// <summary>A two-silo cluster on one store with the gateway's grains, a 2.5 % fee, and the ledger checked when it ends.</summary>
public abstract class LedgerClusterTests : IAsyncLifetime
{
    public const int FeeBasisPoints = 250;
    public static readonly TimeSpan Block = TimeSpan.FromSeconds(5);

    protected TestCluster Cluster { get; private set; } = null!;

    protected IGrainStore Store { get; private set; } = null!;

    protected abstract Task<IGrainStore> CreateStoreAsync();

    protected static async Task<IGrainStore> PostgresStoreAsync(PostgresFixture postgres) =>
        new PostgresGrainStore(NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync()), GrainRegistration.Migrations);

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        Cluster = await TestCluster.StartAsync(new TestClusterOptions
        {
            Silos = 2,
            Store = Store,
            Grains = r => r.AddCryptoPayGrains().Add<ILedgerSenderGrain, LedgerSenderGrain>(),
            Services = s => s
                .AddSingleton(new LedgerOptions { FeeBasisPoints = FeeBasisPoints })
                .AddSingleton(new SandboxChainOptions { BlockInterval = Block }),
        });
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Cluster.RunUntilIdleAsync();
            await LedgerInvariants.CheckAsync(Store);
        }
        finally
        {
            await Cluster.DisposeAsync();
            if (Store is PostgresGrainStore postgres)
            {
                await postgres.DataSource.DisposeAsync();
            }
        }
    }
}
