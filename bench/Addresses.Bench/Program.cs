using System.Diagnostics;
using System.Globalization;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.ClusterSupport;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Merchants;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using NBitcoin.Secp256k1;

// Address derivation figures (issue 4), by hand:
//   dotnet run -c Release --project bench/Addresses.Bench -- [seconds per measurement, default 3]
// 1. raw secp256k1 multiplications with NBitcoin.Secp256k1 (the code NBitcoin derives with) in this run: k·G (the
//    precomputed-table multiplication of the generator, which each CKDpub step needs once) and k·P for an arbitrary
//    point; 2. receive addresses derived per second by AddressDeriver (BIP84 P2WPKH bech32 and EIP-55), one thread:
//    each is one HMAC-SHA512, one k·G, a point addition and the encoding (HASH160 + bech32, or Keccak + EIP-55), so the
//    ratio to raw k·G says how much the rest costs; 3. the address pool's allocation rate: an Orleans AddressPoolGrain
//    on a one-silo GatewayGrainCluster over PostgreSQL (started here; a state write per allocation), allocations
//    serial, with addresses derived ahead. (Before Orleans this was measured on the old runtime's memory store.)
var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 3.0;
var window = TimeSpan.FromSeconds(seconds);

// Published BIP84 test mnemonic keys: the Bitcoin account zpub, and its Ethereum account derived from the root.
const string Zpub = "zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs";
const string RootZprv = "zprvAWgYBBk7JR8Gjrh4UJQ2uJdG1r3WNRRfURiABBE3RvMXYSrRJL62XuezvGdPvG6GFBZduosCc1YP5wixPox7zhZLfiUm8aunE96BBa4Kei5";
var ethXpub = ExtendedKey.Parse(RootZprv).Derive("m/44'/60'/0'").Neuter().Serialize(ExtendedKeyVersion.Xpub);

var random = new Random(42);
var scalars = Enumerable.Range(0, 1024).Select(_ =>
{
    var bytes = new byte[32];
    ECPrivKey? key;
    do
    {
        random.NextBytes(bytes);
    }
    while (!ECPrivKey.TryCreate(bytes, out key));

    return key!;
}).ToArray();
var arbitraryPoint = scalars[0].CreatePubKey();

var btc = AddressDeriver.Create(Network.Btc, Zpub);
var eth = AddressDeriver.Create(Network.Eth, ethXpub);
(string Name, Action<int> Operation)[] measurements =
[
    ("raw k·G (NBitcoin.Secp256k1, generator table)", i => scalars[i & 1023].CreatePubKey()),
    ("raw k·P (NBitcoin.Secp256k1, arbitrary point)", i => arbitraryPoint.GetSharedPubkey(scalars[i & 1023])),
    ("AddressDeriver BIP84 P2WPKH (btc)", i => btc.DeriveReceiveAddress((uint)i)),
    ("AddressDeriver EIP-55 (eth)", i => eth.DeriveReceiveAddress((uint)i)),
];
var rates = MeasureInterleaved(measurements, window);
var (fixedBase, variableBase, bip84, evm) = (rates[0], rates[1], rates[2], rates[3]);

Console.WriteLine();
Console.WriteLine($"ratio BIP84 addresses / raw k·G: {bip84 / fixedBase:0.00}");
Console.WriteLine($"ratio EIP-55 addresses / raw k·G: {evm / fixedBase:0.00}");
Console.WriteLine($"ratio BIP84 addresses / raw k·P: {bip84 / variableBase:0.00}");

// The pool on PostgreSQL: one Orleans grain, allocations one after another (the API's path), addresses derived ahead.
var chains = new ChainsOptions
{
    Networks = { ["btc"] = new ChainNetworkOptions { RpcUrl = "http://127.0.0.1:8332", RpcUser = "bench", RpcPassword = "bench", AccountKey = Zpub, AddressLookahead = 1000 } },
};
chains.Validate();
var cache = new DerivedAddressCache();
await using var postgres = await PostgresServer.StartAsync();
await using (var cluster = await GatewayGrainCluster.StartAsync(await postgres.CreateDatabaseAsync(), new GatewayGrainClusterOptions
{
    Silos = 1,
    // After the grains' own registrations (AddCryptoPayDeposits adds defaults with TryAdd): these win.
    Services = s => s.AddSingleton(chains).AddSingleton(cache),
}))
{
    var pool = cluster.Grains.GetGrain<IAddressPoolGrain>(AddressPoolKeys.Of("btc", Mode.Live));
    await pool.Allocate();
    await cache.WhenRefilledAsync();
    var allocated = 0;
    var watch = Stopwatch.StartNew();
    while (watch.Elapsed < window)
    {
        await pool.Allocate();
        allocated++;
    }

    watch.Stop();
    Console.WriteLine();
    Console.WriteLine($"{"address pool allocations (PostgreSQL, serial)",-45} {allocated / watch.Elapsed.TotalSeconds,12:N0} /s   "
        + $"(Orleans grain, now measured on PostgreSQL: one state write per allocation; derived ahead: {cache.Hits:N0} hits, "
        + $"{cache.SynchronousDerivations:N0} derived on the allocation path)");
}

// Each operation gets the same share of ten rounds, in turn, so a change of the machine's load hits all of them alike.
static double[] MeasureInterleaved((string Name, Action<int> Operation)[] measurements, TimeSpan window)
{
    const int Rounds = 10;
    var counts = new long[measurements.Length];
    var elapsed = new TimeSpan[measurements.Length];
    foreach (var (_, operation) in measurements)
    {
        for (var i = 0; i < 200; i++)
        {
            operation(i);
        }
    }

    for (var round = 0; round < Rounds; round++)
    {
        for (var m = 0; m < measurements.Length; m++)
        {
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < window / Rounds)
            {
                for (var i = 0; i < 50; i++)
                {
                    measurements[m].Operation((int)counts[m]++);
                }
            }

            elapsed[m] += watch.Elapsed;
        }
    }

    var rates = new double[measurements.Length];
    for (var m = 0; m < measurements.Length; m++)
    {
        rates[m] = counts[m] / elapsed[m].TotalSeconds;
        Console.WriteLine($"{measurements[m].Name,-45} {rates[m],12:N0} /s   ({elapsed[m].TotalMicroseconds / counts[m]:0.0} µs each)");
    }

    return rates;
}
