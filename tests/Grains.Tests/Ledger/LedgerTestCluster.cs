using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Sandbox;
using CryptoPay.Grains.Storage;
using CryptoPay.Grains.Tests.Hosting;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Tests.Ledger;

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>;

[GenerateSerializer]
[Alias("test.ledger-sender-state")]
public sealed class LedgerSenderState
{
    [Id(0)]
    public int Sent { get; set; }
}

/// <summary>Sends ledger effects from its own writes, as the invoice grain does, so they are delivered iff the write happened.</summary>
[Alias("test.ledger-sender")]
public interface ILedgerSenderGrain : IGrainWithStringKey, IWakeable
{
    /// <summary>Sends <paramref name="copies"/> credit effects for the output (each a new effect, as repeated chain reports are).</summary>
    Task SendCredit(DepositCredit credit, int copies);

    Task SendReverse(DepositCredit credit);

    /// <summary>
    /// Writes credit effects and dies (a silo killed after its commit): before delivering them (the wake reminder is
    /// registered before the write, as <see cref="EffectGrain{TState}"/> does), or after delivering them but before
    /// writing that they were (so the next activation delivers them again). The activation is dropped either way.
    /// </summary>
    Task CommitCreditAndCrash(DepositCredit credit, int copies, bool afterDelivering);
}

[GrainType("test-ledger-sender")]
public sealed class LedgerSenderGrain : EffectGrain<LedgerSenderState>, ILedgerSenderGrain
{
    private readonly IPersistentState<GrainRecord<LedgerSenderState>> record;

    public LedgerSenderGrain(
        [PersistentState("test-ledger-sender")] IPersistentState<GrainRecord<LedgerSenderState>> record,
        [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
        ILogger<LedgerSenderGrain> logger)
        : base(record, clock, logger)
    {
        this.record = record;
    }

    public async Task SendCredit(DepositCredit credit, int copies)
    {
        for (var i = 0; i < copies; i++)
        {
            State.Sent++;
            Send(new CreditOutput(credit));
        }

        await SaveAsync();
    }

    public async Task SendReverse(DepositCredit credit)
    {
        State.Sent++;
        Send(new ReverseOutput(credit.OutputKey));
        await SaveAsync();
    }

    public async Task CommitCreditAndCrash(DepositCredit credit, int copies, bool afterDelivering)
    {
        for (var i = 0; i < copies; i++)
        {
            State.Sent++;
            Send(new CreditOutput(credit));
        }

        if (afterDelivering)
        {
            // Written with the effects, delivered; the write that empties the stored outbox never happens.
            await SaveAsync();
        }
        else
        {
            await this.RegisterOrUpdateReminder(WakeReminder, RetryPeriod, RetryPeriod);
            await record.WriteStateAsync();
        }

        DeactivateOnIdle();
    }
}

/// <summary>
/// A cluster with the gateway's grains, a 2.5 % fee and a 5 s sandbox block, on memory or PostgreSQL projected storage;
/// the ledger is checked when it ends.
/// </summary>
public abstract class LedgerClusterTests : IAsyncLifetime
{
    public const int FeeBasisPoints = 250;
    public static readonly TimeSpan Block = TimeSpan.FromSeconds(5);

    private static long directSequence;
    private NpgsqlDataSource? dataSource;

    protected GatewayCluster Cluster { get; private set; } = null!;

    /// <summary>Calls of this test's cluster to fail on purpose.</summary>
    protected CallFailures Failures { get; } = new();

    /// <summary>The PostgreSQL database of this test, migrated; null: the projected storage is in memory.</summary>
    protected virtual Task<NpgsqlDataSource?> CreateDataSourceAsync() => Task.FromResult<NpgsqlDataSource?>(null);

    protected static async Task<NpgsqlDataSource?> PostgresDataSourceAsync(PostgresFixture postgres)
    {
        var source = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        await PostgresMigrator.ApplyAsync(source, GrainRegistration.Migrations, CancellationToken.None);
        return source;
    }

    /// <summary>A pending test-mode invoice of 100 USD, paid in sandbox USDT to its one address.</summary>
    protected async Task<InvoiceState> CreateInvoiceAsync(Guid merchant)
    {
        var now = Cluster.Clock.GetUtcNow();
        var id = Guid.NewGuid();
        return await Cluster.Grains.GetGrain<IInvoiceGrain>(id).Create(new InvoiceSpec
        {
            MerchantId = merchant,
            Mode = Mode.Test,
            Amount = 100m,
            Currency = "USD",
            CreatedAt = now,
            ExpiresAt = now.AddMinutes(30),
            AmountReporting = 100m,
            PaymentMethods =
            [
                new InvoicePaymentMethod
                {
                    Method = "usdt_sandbox", Network = "sandbox", Asset = "USDT", Decimals = 6, Amount = 100m, AmountUnits = 100_000_000,
                    Rate = 1m, RequiredConfirmations = 1, Address = SandboxChainGrain.AddressFor(id, "usdt_sandbox"),
                },
            ],
        });
    }

    /// <summary>The key an invoice's row is stored under.</summary>
    protected static string InvoiceKey(Guid id) => GrainId.Create(InvoiceProjection.GrainType, id.ToString("N")).Key.ToString()!;

    /// <summary>The invoice's stored row as the store holds it: its version and its state's JSON text.</summary>
    protected async Task<(long Version, string Json)> StoredInvoiceAsync(Guid id)
    {
        if (Cluster.Storage is MemoryProjectedGrainStorage memory)
        {
            var row = memory.Row(InvoiceProjection.Table, InvoiceKey(id))!;
            return (row.Version, System.Text.Encoding.UTF8.GetString(row.State));
        }

        await using var command = ((PostgresProjectedGrainStorage)Cluster.Storage).DataSource.CreateCommand(
            $"SELECT version, state::text FROM {InvoiceProjection.Table} WHERE grain_key = $1");
        command.Parameters.AddWithValue(InvoiceKey(id));
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"invoice {id} is not stored");
        return (reader.GetInt64(0), reader.GetString(1));
    }

    /// <summary>Stamps an effect as the test's own (sender "test/direct"), numbered after every one before it: deliver it again to redeliver it.</summary>
    protected static T Direct<T>(T effect) where T : GrainEffect =>
        effect with { Sender = "test/direct", Sequence = Interlocked.Increment(ref directSequence) };

    public async Task InitializeAsync()
    {
        dataSource = await CreateDataSourceAsync();
        Cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            DataSource = dataSource,
            Ledger = new LedgerOptions { FeeBasisPoints = FeeBasisPoints },
            Sandbox = new SandboxChainOptions { BlockInterval = Block },
            CallFailures = Failures,
        });
    }

    public async Task DisposeAsync()
    {
        try
        {
            await Cluster.RunDueWorkAsync();
            await LedgerInvariants.CheckAsync(Cluster.Ledger);
        }
        finally
        {
            await Cluster.DisposeAsync();
            if (dataSource is not null)
            {
                await dataSource.DisposeAsync();
            }
        }
    }
}
