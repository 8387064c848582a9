using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.ClusterSupport;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.TestSupport.Litecoin;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

// Deposits processed per second end to end (issue 4), by hand:
//   dotnet run -c Release --project bench/Deposits.Bench -- [outputs] [rounds] [silos: 1 or 2, default 2]
// Each round: a fresh database, `outputs` live invoices (1 confirmation required) with their deposit addresses, one
// sendmany paying all of them mined into one block of a real litecoind -regtest; then the clock starts: one watcher
// poll (mempool + block read over RPC, directory lookup, the Record call) on an Orleans cluster of the gateway's grains
// over PostgreSQL (GatewayGrainCluster). The effects it causes (invoice calls, ledger-output and balance calls) are
// delivered within the poll's grain calls; a WakeDueAsync() after it runs anything left due, then every output must be
// credited.
// Baselines in the same run: the raw RPC read of that block (getblockhash + getblock verbosity 2), and one INSERT
// round trip per deposit into a plain table of the same PostgreSQL.
var outputs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2_000;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var silos = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2;
using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(30));

await using var postgres = await PostgresServer.StartAsync(stop.Token);
await using var node = await LitecoinRegtestNode.StartAsync(stop.Token);
var miner = await node.Wallet.GetNewAddressAsync("bech32", stop.Token);
await node.Rpc.GenerateToAddressAsync(101 + rounds, miner, stop.Token); // coinbase outputs mature after 100 blocks
var regtest = Network.Litecoin(NetworkChain.Regtest);
var seed = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
var deriver = new AddressDeriver(regtest, ExtendedKey.FromSeed(seed, ExtendedKeyVersion.Vpub).Derive(regtest.AccountPath()).Neuter());
Console.WriteLine($"outputs={outputs} rounds={rounds} silos={silos} cores={Environment.ProcessorCount} node={node.Version}");
Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine("round | block read (RPC) | raw INSERT/s | end to end (of which the poll: read + match + Record call, effects delivered within) | deposits/s | SQL per deposit");

var rates = new List<double>();
// Round 0 warms the JIT and the node up with a small block and is not counted (each round has a fresh database and cluster).
for (var round = 0; round <= rounds; round++)
{
    var count = round == 0 ? Math.Min(outputs, 200) : outputs;
    var connectionString = await postgres.CreateDatabaseAsync(ct: stop.Token);
    await using var dataSource = NpgsqlDataSource.Create(connectionString);
    await using var cluster = await GatewayGrainCluster.StartAsync(connectionString, new GatewayGrainClusterOptions
    {
        Silos = silos,
        Ledger = new LedgerOptions { FeeBasisPoints = 100 },
    });
    var watch = new ChainWatch("ltc", new ChainNetworkOptions { Chain = "regtest", ReorgDepth = 10 }, new UtxoChainReader(node.Rpc, "LTC"));
    // No ChainWatchSignals: no reminder-driven background polls, only the bench's own.
    var runner = new ChainWatchRunner(cluster.Grains, cluster.Directory, [watch]);
    await runner.PollAsync("ltc", stop.Token); // the watcher starts at the tip

    var merchant = Guid.NewGuid();
    var payments = new Dictionary<string, long>();
    var firstIndex = (uint)(round * outputs) + 10_000;
    for (var chunk = 0; chunk < count; chunk += 100)
    {
        await Task.WhenAll(Enumerable.Range(chunk, Math.Min(100, count - chunk)).Select(async i =>
        {
            var address = deriver.DeriveReceiveAddress(firstIndex + (uint)i);
            var amount = 100_000L + i;
            await CreateInvoiceAsync(cluster, merchant, address, amount);
            lock (payments)
            {
                payments[address] = amount;
            }
        }));
    }

    await node.Wallet.SendManyAsync(payments, stop.Token);
    var blockHash = (await node.Rpc.GenerateToAddressAsync(1, miner, stop.Token))[0];
    var height = await node.Rpc.GetBlockCountAsync(stop.Token);

    var read = Stopwatch.StartNew();
    var block = await node.Rpc.GetBlockAsync(await node.Rpc.GetBlockHashAsync(height, stop.Token), stop.Token);
    read.Stop();
    if (block.Hash != blockHash)
    {
        throw new InvalidOperationException("The tip moved during the bench.");
    }

    var insertRate = await RawInsertRateAsync(dataSource, count, stop.Token);

    using var sql = new SqlActivity(connectionString);
    var sqlBefore = await sql.ReadAsync(cluster.DataSources.Append(dataSource), stop.Token);
    var endToEnd = Stopwatch.StartNew();
    await runner.PollAsync("ltc", stop.Token);
    var polled = endToEnd.Elapsed;
    await cluster.WakeDueAsync();
    endToEnd.Stop();
    var work = await sql.ReadAsync(cluster.DataSources.Append(dataSource), stop.Token) - sqlBefore;

    var expected = payments.Values.Aggregate(BigInteger.Zero, (sum, amount) => sum + amount - (amount * 100 / 10_000));
    var balance = (await cluster.Ledger.BalancesAsync(merchant, Mode.Live, stop.Token)).Single();
    var snapshot = await cluster.Ledger.SnapshotAsync(stop.Token);
    if (balance.Available != expected || snapshot.Outputs.Count(o => o.Credited && o.Movements.Count == 1) != count)
    {
        throw new InvalidOperationException($"Round {round}: credited {balance.Available}, expected {expected} over {count} outputs.");
    }

    LedgerInvariants.Check(snapshot);
    var rate = count / endToEnd.Elapsed.TotalSeconds;
    if (round > 0)
    {
        rates.Add(rate);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{(round == 0 ? $"warm-up, {count} outputs, not counted" : round.ToString(CultureInfo.InvariantCulture))} | {read.Elapsed.TotalMilliseconds:F0} ms ({count / read.Elapsed.TotalSeconds:F0} outputs/s) | {insertRate:F0} | {endToEnd.Elapsed.TotalMilliseconds:F0} ms (poll {polled.TotalMilliseconds:F0} ms) | {rate:F0} ({rate / insertRate:F2}x raw INSERT) | {work.PerOperation(count)}"));
}

rates.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median deposits/s: {rates[rates.Count / 2]:F0} (target >= 1000)"));
Console.WriteLine($"load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");

static async Task CreateInvoiceAsync(GatewayGrainCluster cluster, Guid merchant, string address, long amountUnits)
{
    var id = Guid.NewGuid();
    var now = cluster.Clock.GetUtcNow();
    var amount = Amounts.FromUnits(amountUnits, 8);
    await cluster.Grains.GetGrain<IInvoiceGrain>(id).Create(new InvoiceSpec
    {
        MerchantId = merchant,
        Mode = Mode.Live,
        Amount = amount,
        Currency = "LTC",
        CreatedAt = now,
        ExpiresAt = now.AddHours(1),
        AmountReporting = amount,
        PaymentMethods =
        [
            new InvoicePaymentMethod
            {
                Method = "ltc_ltc", Network = "ltc", Asset = "LTC", Decimals = 8, Amount = amount, AmountUnits = amountUnits,
                Rate = 1m, RequiredConfirmations = 1, Address = address,
            },
        ],
    });
    await cluster.Grains.GetGrain<IDepositAddressGrain>(DepositAddressKeys.Of("ltc", address)).Assign(new DepositAddressState
    {
        Network = "ltc", Address = address, InvoiceId = id, MerchantId = merchant, Mode = Mode.Live, Method = "ltc_ltc", Asset = "LTC",
        RequiredConfirmations = 1,
    });
}

// One autocommitted INSERT per deposit, sequential: what recording each deposit as a row costs at the least.
static async Task<double> RawInsertRateAsync(NpgsqlDataSource dataSource, int rows, CancellationToken ct)
{
    await using (var create = dataSource.CreateCommand("CREATE TABLE IF NOT EXISTS bench_raw_deposits (txid text, idx int, amount numeric(78,0), PRIMARY KEY (txid, idx))"))
    {
        await create.ExecuteNonQueryAsync(ct);
    }

    var txid = Guid.NewGuid().ToString("N");
    var watch = Stopwatch.StartNew();
    for (var i = 0; i < rows; i++)
    {
        await using var insert = dataSource.CreateCommand("INSERT INTO bench_raw_deposits (txid, idx, amount) VALUES (@txid, @idx, @amount)");
        insert.Parameters.AddWithValue("txid", txid);
        insert.Parameters.AddWithValue("idx", i);
        insert.Parameters.AddWithValue("amount", (decimal)(100_000 + i));
        await insert.ExecuteNonQueryAsync(ct);
    }

    return rows / watch.Elapsed.TotalSeconds;
}
