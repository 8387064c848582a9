using System.Numerics;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Storage;
using CryptoPay.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Time.Testing;
using Orleans;
using Orleans.Hosting;
using Orleans.TestingHost;
using CryptoPay.TestSupport.Evm;
using CryptoPay.TestSupport.Litecoin;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CryptoPay.Integration.Tests.Deposits;

[CollectionDefinition("litecoin-deposits")]
public sealed class LitecoinDepositsCollection : ICollectionFixture<LitecoinFixture>, ICollectionFixture<PostgresFixture>;

[CollectionDefinition("evm-deposits")]
public sealed class EvmDepositsCollection : ICollectionFixture<EvmDevNodeFixture>, ICollectionFixture<PostgresFixture>;

/// <summary>
/// A two-silo Orleans cluster on a fresh PostgreSQL database (the silos' own hosting: ADO.NET clustering, state and
/// reminders, projected storage) with the gateway's grains, a 2.5 % fee and a chain watch runner reading real nodes; a
/// fake gateway clock drives the grains, the nodes run on their own. When a test ends the ledger is checked: balances
/// match their journals and no output is credited twice.
/// </summary>
public sealed class DepositCluster : IAsyncDisposable
{
    public const int FeeBasisPoints = 250;

    // Silo configurators are created by type, so what the silos share with the test is handed over here; the
    // deposit tests of a collection run one at a time.
    internal static FakeTimeProvider SiloClock { get; private set; } = new();

    internal static ChainWatchSignals SiloSignals { get; private set; } = new();

    private DepositCluster(TestCluster cluster, FakeTimeProvider clock, ChainWatchRunner runner, ILedgerQuery ledger)
    {
        Cluster = cluster;
        Clock = clock;
        Runner = runner;
        Ledger = ledger;
    }

    public TestCluster Cluster { get; }

    public FakeTimeProvider Clock { get; }

    public IGrainFactory Grains => Cluster.Client;

    public ChainWatchRunner Runner { get; }

    public ILedgerQuery Ledger { get; }

    public Guid MerchantId { get; } = Guid.NewGuid();

    public static async Task<DepositCluster> StartAsync(PostgresFixture postgres, IEnumerable<ChainWatch> watches)
    {
        var database = await postgres.CreateDatabaseAsync();
        SiloClock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        SiloSignals = new ChainWatchSignals();
        var builder = new TestClusterBuilder(2);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureHostConfiguration(configuration => configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = database,
        }));
        builder.AddSiloBuilderConfigurator<DepositSilo>();
        builder.AddClientBuilderConfigurator<PostgresClient>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        var storage = ((InProcessSiloHandle)cluster.Silos[0]).SiloHost.Services.GetRequiredService<ProjectedGrainStorage>();
        var runner = new ChainWatchRunner(cluster.Client, DepositAddressDirectories.For(storage), watches, SiloSignals);
        return new DepositCluster(cluster, SiloClock, runner, LedgerQueries.For(storage));
    }

    /// <summary>One poll of the network's node; every effect it caused was delivered before the poll's calls returned.</summary>
    public Task PollAsync(string network) => Runner.PollAsync(network);

    /// <summary>Moves the gateway clock and wakes every grain with something due (expiries, polls).</summary>
    public async Task AdvanceTimeAsync(TimeSpan by)
    {
        Clock.Advance(by);
        await WakeDueAsync();
    }

    public async Task WakeDueAsync()
    {
        var silo = ((InProcessSiloHandle)Cluster.Silos[0]).SiloHost.Services;
        await DueWork.WakeAllAsync(silo.GetRequiredService<IReminderTable>(), Grains);
    }

    /// <summary>A live invoice payable with one method, its address assigned to it as the address pool would.</summary>
    public async Task<InvoiceState> CreateInvoiceAsync(
        string network, string asset, string address, BigInteger amountUnits, int requiredConfirmations,
        decimal allowedErrorPercent = 0, TimeSpan? expiresIn = null)
    {
        var id = Guid.NewGuid();
        var now = Clock.GetUtcNow();
        var method = Assets.Methods.Single(m => m.Network == network && string.Equals(m.Asset, asset, StringComparison.OrdinalIgnoreCase));
        var amount = Amounts.FromUnits(amountUnits, method.Decimals);
        var spec = new InvoiceSpec
        {
            MerchantId = MerchantId,
            Mode = Mode.Live,
            Amount = amount,
            Currency = method.Asset,
            CreatedAt = now,
            ExpiresAt = now + (expiresIn ?? TimeSpan.FromMinutes(30)),
            AllowedErrorPercent = allowedErrorPercent,
            AmountReporting = amount,
            PaymentMethods =
            [
                new InvoicePaymentMethod
                {
                    Method = method.Id, Network = network, Asset = method.Asset, Decimals = method.Decimals, Amount = amount,
                    AmountUnits = amountUnits, Rate = 1m, RequiredConfirmations = requiredConfirmations, Address = address,
                },
            ],
        };
        var invoice = await Grains.GetGrain<IInvoiceGrain>(id).Create(spec);
        await Grains.GetGrain<IDepositAddressGrain>(DepositAddressKeys.Of(network, address)).Assign(new DepositAddressState
        {
            Network = network,
            Address = address,
            InvoiceId = id,
            MerchantId = MerchantId,
            Mode = Mode.Live,
            Method = method.Id,
            Asset = method.Asset,
            RequiredConfirmations = requiredConfirmations,
        });
        return invoice;
    }

    public async Task<InvoiceState> InvoiceAsync(Guid id) => (await Grains.GetGrain<IInvoiceGrain>(id).Get())!;

    /// <summary>The merchant's balance of an asset as <c>GET /v1/balances</c> reads it (from the ledger tables).</summary>
    public async Task<(BigInteger Available, BigInteger Pending)> BalanceAsync(string assetLabel)
    {
        var balances = await Ledger.BalancesAsync(MerchantId, Mode.Live, CancellationToken.None);
        var balance = balances.SingleOrDefault(b => b.Asset == assetLabel);
        return balance is null ? (0, 0) : (balance.Available, balance.Pending);
    }

    public async Task<LedgerOutputState> OutputAsync(string network, string txid, int index) =>
        await Grains.GetGrain<ILedgerOutputGrain>(LedgerKeys.Output(network, txid, index)).Get();

    public static BigInteger NetOf(BigInteger gross) => gross - (gross * FeeBasisPoints / 10_000);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Runner.WhenBackgroundPollsDoneAsync();
            await WakeDueAsync();
            await LedgerInvariants.CheckAsync(Ledger);
        }
        finally
        {
            await Cluster.StopAllSilosAsync();
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>A silo of <see cref="DepositCluster"/>: the operator's hosting on PostgreSQL plus the gateway's grain services.</summary>
internal sealed class DepositSilo : ISiloConfigurator
{
    public void Configure(ISiloBuilder siloBuilder)
    {
        siloBuilder.ConfigureCryptoPay(siloBuilder.Configuration);
        var services = siloBuilder.Services;
        var postgres = siloBuilder.Configuration.GetConnectionString("Postgres")!;
        services.AddKeyedSingleton<TimeProvider>(GatewayClock.Key, DepositCluster.SiloClock);
        services.AddSingleton(new LedgerOptions { FeeBasisPoints = DepositCluster.FeeBasisPoints });
        services.AddSingleton(DepositCluster.SiloSignals);
        services.AddSingleton(_ => NpgsqlDataSource.Create(postgres));
        services.AddCryptoPayGrainServices(sp => sp.GetRequiredService<NpgsqlDataSource>());
    }
}

internal sealed class PostgresClient : IClientBuilderConfigurator
{
    public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
        clientBuilder.UseAdoNetClustering(o =>
        {
            o.Invariant = OrleansHosting.AdoNetInvariant;
            o.ConnectionString = configuration.GetConnectionString("Postgres");
        });
}
