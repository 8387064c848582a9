using System.Numerics;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.ClusterSupport;
using Microsoft.Extensions.Time.Testing;
using Orleans;
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

    private DepositCluster(GatewayGrainCluster cluster, ChainWatchRunner runner)
    {
        Cluster = cluster;
        Runner = runner;
    }

    public GatewayGrainCluster Cluster { get; }

    public FakeTimeProvider Clock => Cluster.Clock;

    public IGrainFactory Grains => Cluster.Grains;

    public ChainWatchRunner Runner { get; }

    public ILedgerQuery Ledger => Cluster.Ledger;

    public Guid MerchantId { get; } = Guid.NewGuid();

    public static async Task<DepositCluster> StartAsync(PostgresFixture postgres, IEnumerable<ChainWatch> watches)
    {
        var signals = new ChainWatchSignals();
        var cluster = await GatewayGrainCluster.StartAsync(await postgres.CreateDatabaseAsync(), new GatewayGrainClusterOptions
        {
            Ledger = new LedgerOptions { FeeBasisPoints = FeeBasisPoints },
            Signals = signals,
        });
        return new DepositCluster(cluster, new ChainWatchRunner(cluster.Grains, cluster.Directory, watches, signals));
    }

    /// <summary>One poll of the network's node; every effect it caused was delivered before the poll's calls returned.</summary>
    public Task PollAsync(string network) => Runner.PollAsync(network);

    /// <summary>Moves the gateway clock and wakes every grain with something due (expiries, polls).</summary>
    public Task AdvanceTimeAsync(TimeSpan by) => Cluster.AdvanceTimeAsync(by);

    public Task WakeDueAsync() => Cluster.WakeDueAsync();

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
            await Cluster.DisposeAsync();
        }
    }
}
