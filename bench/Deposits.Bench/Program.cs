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
using CryptoPay.Api.Bench.Measurement;
using Npgsql;

// Deposits processed per second end to end (issue 4), by hand:
//   dotnet run -c Release --project bench/Deposits.Bench -- [outputs] [rounds] [silos: 1 or 2, default 2]
// Each round: a fresh database, `outputs` live invoices (1 confirmation required) with their deposit addresses, one
// sendmany paying all of them mined into one block of a real litecoind -regtest; then the clock starts: one watcher
// poll (mempool + block read over RPC, directory lookup, the Record call) on an Orleans cluster of the gateway's grains
// over PostgreSQL (GatewayGrainCluster). The effects it causes (invoice calls, ledger-output and balance calls) are
// delivered within the poll's grain calls; the clock stops once every output is credited (the merchant's balance is the
// sum of the payments less the fee), which holds when the poll returns. Should it not, a WakeDueAsync() inside the timed
// window runs anything left due (the round's line says so). Earlier versions always ran that wake in the window, which
// woke every invoice of the round through the wake reminder its creation had registered: the invoices' creation work,
// not the deposits'.
// Baselines in the same run: the raw RPC read of that block (getblockhash + getblock verbosity 2), and one INSERT
// round trip per deposit into a plain table of the same PostgreSQL.
var outputs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2_000;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var silos = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2;
using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(30));

await using var postgres = await PostgresServer.StartAsync(stop.Token);
await using var node = await LitecoinRegtestNode.StartAsync(stop.Token);
var cpu = new CpuMeter(postgres.DataDirectory);
var miner = await node.Wallet.GetNewAddressAsync("bech32", stop.Token);
await node.Rpc.GenerateToAddressAsync(101 + JitWarmup.Rounds + rounds, miner, stop.Token); // coinbase outputs mature after 100 blocks
var regtest = Network.Litecoin(NetworkChain.Regtest);
var seed = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
var deriver = new AddressDeriver(regtest, ExtendedKey.FromSeed(seed, ExtendedKeyVersion.Vpub).Derive(regtest.AccountPath()).Neuter());
Console.WriteLine($"outputs={outputs} rounds={rounds} silos={silos} cores={Environment.ProcessorCount} node={node.Version}");
Console.WriteLine($"load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine("round | block read (RPC) | raw INSERT/s | end to end (of which the poll: read + match + Record call, effects delivered within) | deposits/s | SQL per deposit | CPU in the timed window");

var rates = new List<double>();
var nextAddressIndex = 10_000u;
// Warm-up rounds (JitWarmup) of small blocks, not counted, warm the JIT and the node up; each round has a fresh database and cluster.
await JitWarmup.RunAsync(_ => RunRoundAsync("warm-up, not counted", Math.Min(outputs, 200)));
for (var round = 1; round <= rounds; round++)
{
    rates.Add(await RunRoundAsync(round.ToString(CultureInfo.InvariantCulture), outputs));
}

rates.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median deposits/s: {rates[rates.Count / 2]:F0} (target >= 1000)"));
Console.WriteLine($"load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");

// One round: returns its deposits/s.
async Task<double> RunRoundAsync(string label, int count)
{
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
    var firstIndex = nextAddressIndex;
    nextAddressIndex += (uint)count;
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
    var expected = payments.Values.Aggregate(BigInteger.Zero, (sum, amount) => sum + amount - (amount * 100 / 10_000));
    var cpuBefore = cpu.Take();
    var endToEnd = Stopwatch.StartNew();
    await runner.PollAsync("ltc", stop.Token);
    var polled = endToEnd.Elapsed;
    // Done once every output is credited. The poll's grain calls deliver their effects within them, so this holds as
    // the poll returns; if it did not, due work is woken (inside the timed window), the round says so, and the check
    // below the window finds whether that credited the rest.
    var woke = (await cluster.Ledger.BalancesAsync(merchant, Mode.Live, stop.Token)).SingleOrDefault()?.Available != expected;
    if (woke)
    {
        await cluster.WakeDueAsync();
    }

    endToEnd.Stop();
    var cpuUsed = CpuMeter.Between(cpuBefore, cpu.Take());
    var work = await sql.ReadAsync(cluster.DataSources.Append(dataSource), stop.Token) - sqlBefore;

    var balance = (await cluster.Ledger.BalancesAsync(merchant, Mode.Live, stop.Token)).Single();
    var snapshot = await cluster.Ledger.SnapshotAsync(stop.Token);
    if (balance.Available != expected || snapshot.Outputs.Count(o => o.Credited && o.Movements.Count == 1) != count)
    {
        throw new InvalidOperationException($"Round {label}: credited {balance.Available}, expected {expected} over {count} outputs.");
    }

    LedgerInvariants.Check(snapshot);
    var rate = count / endToEnd.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{label} ({count} outputs) | {read.Elapsed.TotalMilliseconds:F0} ms ({count / read.Elapsed.TotalSeconds:F0} outputs/s) | {insertRate:F0} | {endToEnd.Elapsed.TotalMilliseconds:F0} ms (poll {polled.TotalMilliseconds:F0} ms{(woke ? ", then due work woken" : "")}) | {rate:F0} ({rate / insertRate:F2}x raw INSERT) | {work.PerOperation(count)} | {cpuUsed}"));
    return rate;
}

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
