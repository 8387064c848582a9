using System.Numerics;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Runtime.Storage.Postgres;
using CryptoPay.Runtime.Testing;
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
/// A two-silo cluster on a fresh PostgreSQL database with the gateway's grains, a 2.5 % fee and a chain watch runner
/// reading real nodes; the fake clock drives the grains, the nodes run on their own. When a test ends the cluster is
/// drained and the ledger checked: balances match their journals and no output is credited twice.
/// </summary>
public sealed class DepositCluster : IAsyncDisposable
{
    public const int FeeBasisPoints = 250;

    private readonly NpgsqlDataSource dataSource;

    private DepositCluster(TestCluster cluster, NpgsqlDataSource dataSource, ChainWatchRunner runner, PostgresGrainStore store)
    {
        Cluster = cluster;
        this.dataSource = dataSource;
        Runner = runner;
        Store = store;
    }

    public TestCluster Cluster { get; }

    public ChainWatchRunner Runner { get; }

    public PostgresGrainStore Store { get; }

    public Guid MerchantId { get; } = Guid.NewGuid();

    public static async Task<DepositCluster> StartAsync(PostgresFixture postgres, IEnumerable<ChainWatch> watches)
    {
        var dataSource = NpgsqlDataSource.Create(await postgres.CreateDatabaseAsync());
        var store = new PostgresGrainStore(dataSource, GrainRegistration.Migrations);
        var signals = new ChainWatchSignals();
        var cluster = await TestCluster.StartAsync(new TestClusterOptions
        {
            Silos = 2,
            Store = store,
            Grains = r => r.AddCryptoPayGrains(),
            Services = s => s
                .AddSingleton(new LedgerOptions { FeeBasisPoints = FeeBasisPoints })
                .AddSingleton(signals),
        });
        var runner = new ChainWatchRunner(cluster.Client, DepositAddressDirectories.For(store), watches, signals);
        return new DepositCluster(cluster, dataSource, runner, store);
    }

    /// <summary>One poll of the network's node, then every message it caused is delivered.</summary>
    public async Task PollAsync(string network)
    {
        await Runner.PollAsync(network);
        await Cluster.RunUntilIdleAsync();
    }

    /// <summary>A live invoice payable with one method, its address assigned to it as the address pool would.</summary>
    public async Task<InvoiceState> CreateInvoiceAsync(
        string network, string asset, string address, BigInteger amountUnits, int requiredConfirmations,
        decimal allowedErrorPercent = 0, TimeSpan? expiresIn = null)
    {
        var id = Guid.NewGuid();
        var now = Cluster.Time.GetUtcNow();
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
        var invoice = await Cluster.Client.GetGrain<IInvoiceGrain>(id).Create(spec);
        await Cluster.Client.GetGrain<IDepositAddressGrain>(DepositAddressKeys.Of(network, address)).Assign(new DepositAddressState
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

    public async Task<InvoiceState> InvoiceAsync(Guid id) => (await Cluster.Client.GetGrain<IInvoiceGrain>(id).Get())!;

    /// <summary>The merchant's balance of an asset as <c>GET /v1/balances</c> reads it (from the ledger tables).</summary>
    public async Task<(BigInteger Available, BigInteger Pending)> BalanceAsync(string assetLabel)
    {
        var balances = await LedgerQueries.For(Store).BalancesAsync(MerchantId, Mode.Live, CancellationToken.None);
        var balance = balances.SingleOrDefault(b => b.Asset == assetLabel);
        return balance is null ? (0, 0) : (balance.Available, balance.Pending);
    }

    public async Task<LedgerOutputState> OutputAsync(string network, string txid, int index) =>
        await Cluster.Client.GetGrain<ILedgerOutputGrain>(LedgerKeys.Output(network, txid, index)).Get();

    public static BigInteger NetOf(BigInteger gross) => gross - (gross * FeeBasisPoints / 10_000);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Runner.WhenBackgroundPollsDoneAsync();
            await Cluster.RunUntilIdleAsync();
            await LedgerInvariants.CheckAsync(Store);
        }
        finally
        {
            await Cluster.DisposeAsync();
            await dataSource.DisposeAsync();
        }
    }
}
