using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Tests.Hosting;

namespace CryptoPay.Grains.Tests.Deposits;

/// <summary>
/// Address pools hand out each index once, in order, from addresses derived ahead, across activations and restarts.
/// The pool's state is in the default grain storage (not the projected one), so there is no PostgreSQL variant here.
/// </summary>
public sealed class AddressPoolTests : IAsyncLifetime
{
    // The BIP84 test mnemonic ("abandon ×11 about") at m/84'/1'/0': the published testnet account key.
    public const string TestnetAccountVpub = "vpub5Y6cjg78GGuNLsaPhmYsiw4gYX3HoQiRBiSwDaBXKUafCt9bNwWQiitDk5VZ5BVxYnQdwoTyXSs2JHRPAgjAvtbBrf8ZhDYe2jWAqvZVnsc";

    private const int Lookahead = 8;
    private static readonly string PoolKey = AddressPoolKeys.Of("ltc", Mode.Live);
    private readonly AddressDeriver expected = AddressDeriver.Create(Network.Litecoin(NetworkChain.Regtest), TestnetAccountVpub);

    /// <summary>The pools' store, kept across the clusters a test starts one after another.</summary>
    private readonly SharedMemoryGrainStorage store = new();

    private GatewayCluster Cluster { get; set; } = null!;

    /// <summary>The silo's cache of addresses derived ahead, new with each cluster.</summary>
    private DerivedAddressCache Cache { get; set; } = null!;

    public static ChainsOptions Chains(string accountKey = TestnetAccountVpub, int lookahead = Lookahead) => new()
    {
        Networks =
        {
            ["ltc"] = new ChainNetworkOptions { Chain = "regtest", RpcUrl = "http://127.0.0.1:19443", AccountKey = accountKey, AddressLookahead = lookahead },
        },
    };

    public async Task InitializeAsync() => Cluster = await StartAsync(Chains());

    private Task<GatewayCluster> StartAsync(ChainsOptions chains)
    {
        var cache = Cache = new DerivedAddressCache();
        return GatewayCluster.StartAsync(new GatewayClusterOptions { DefaultStorage = store, Chains = chains, AddressCache = cache });
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private IAddressPoolGrain Pool() => Cluster.Grains.GetGrain<IAddressPoolGrain>(PoolKey);

    [Fact]
    public async Task Indexes_are_handed_out_in_order_and_addresses_come_derived_ahead()
    {
        var first = await Pool().Allocate();
        Assert.Equal((0L, expected.DeriveReceiveAddress(0), "ltc"), (first.Index, first.Address, first.Network));
        Assert.StartsWith("rltc1q", first.Address, StringComparison.Ordinal);

        // The first allocation found nothing derived yet (fallback, counted); after it the pool refills in the background.
        Assert.Equal(1, Cache.SynchronousDerivations);
        await Cache.WhenRefilledAsync();
        Assert.Equal(Lookahead, Cache.BackgroundDerivations);

        for (var i = 1; i <= 20; i++)
        {
            if (i % 5 == 0)
            {
                // The old test alternated silos; a fresh activation reads the pool from the store and still finds its address.
                await Cluster.DeactivateAllAsync();
            }

            var next = await Pool().Allocate();
            Assert.Equal((i, expected.DeriveReceiveAddress((uint)i)), (next.Index, next.Address));
            await Cache.WhenRefilledAsync();
        }

        Assert.Equal(1, Cache.SynchronousDerivations);
        Assert.True(Cache.Hits >= 20, $"{Cache.Hits} hits");
        var state = await Pool().Get();
        Assert.Equal((21L, 21L), (state.NextIndex, state.Allocated));
    }

    [Fact]
    public async Task A_burst_beyond_the_lookahead_derives_on_the_spot_and_still_never_repeats_an_index()
    {
        var burst = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => Pool().Allocate()));

        Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i), burst.Select(a => a.Index).Order());
        Assert.Equal(40, burst.Select(a => a.Address).Distinct().Count());
        Assert.All(burst, a => Assert.Equal(expected.DeriveReceiveAddress((uint)a.Index), a.Address));
        Assert.True(Cache.SynchronousDerivations >= 1, "the first allocation cannot have been derived ahead");
        Assert.Equal(40, (await Pool().Get()).NextIndex);
    }

    [Fact]
    public async Task A_lost_activation_loses_nothing_and_the_restarted_cluster_continues_after_the_last_index()
    {
        var before = new List<PooledAddress>();
        for (var i = 0; i < 5; i++)
        {
            before.Add(await Pool().Allocate());
        }

        // The old test killed the silo holding the pool; here its activation goes, then the whole cluster.
        await Cluster.DeactivateAllAsync();
        before.Add(await Pool().Allocate());
        await Cluster.DisposeAsync();
        Cluster = await StartAsync(Chains());
        var after = new[] { await Pool().Allocate(), await Pool().Allocate(), await Pool().Allocate() };

        Assert.Equal(Enumerable.Range(0, 9).Select(i => (long)i), before.Concat(after).Select(a => a.Index));
        Assert.Equal(9, before.Concat(after).Select(a => a.Address).Distinct().Count());
    }

    [Fact]
    public async Task A_new_account_key_starts_its_own_cursor_and_the_old_key_resumes_where_it_stopped()
    {
        for (var i = 0; i < 3; i++)
        {
            await Pool().Allocate();
        }

        // The operator configures another account (m/84'/1'/1' of the same test seed), then goes back.
        var other = ExtendedKey.Parse(BipTestRoot).Derive("m/84'/1'/1'").Neuter().Serialize(ExtendedKeyVersion.Vpub);
        await Cluster.DisposeAsync();
        Cluster = await StartAsync(Chains(other));
        var fromOther = await Pool().Allocate();
        Assert.Equal((0L, AddressDeriver.Create(Network.Litecoin(NetworkChain.Regtest), other).DeriveReceiveAddress(0)), (fromOther.Index, fromOther.Address));

        await Cluster.DisposeAsync();
        Cluster = await StartAsync(Chains());
        var resumed = await Pool().Allocate();
        Assert.Equal((3L, expected.DeriveReceiveAddress(3)), (resumed.Index, resumed.Address));
        Assert.Equal(5, (await Pool().Get()).Allocated);
    }

    [Fact]
    public async Task A_pool_of_an_unconfigured_network_or_of_test_mode_hands_out_nothing()
    {
        await Assert.ThrowsAsync<NetworkNotConfiguredException>(() => Cluster.Grains.GetGrain<IAddressPoolGrain>(AddressPoolKeys.Of("btc", Mode.Live)).Allocate());
        await Assert.ThrowsAsync<NetworkNotConfiguredException>(() => Cluster.Grains.GetGrain<IAddressPoolGrain>(AddressPoolKeys.Of("ltc", Mode.Test)).Allocate());
        Assert.Equal(0, (await Cluster.Grains.GetGrain<IAddressPoolGrain>(AddressPoolKeys.Of("btc", Mode.Live)).Get()).NextIndex);
    }

    // The BIP84 test mnemonic's root key, as published (zprv form).
    private const string BipTestRoot = "zprvAWgYBBk7JR8Gjrh4UJQ2uJdG1r3WNRRfURiABBE3RvMXYSrRJL62XuezvGdPvG6GFBZduosCc1YP5wixPox7zhZLfiUm8aunE96BBa4Kei5";
}
