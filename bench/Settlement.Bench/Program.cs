using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Numerics;
using System.Text;
using System.Text.Json;
using CryptoPay.Api.Bench;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.TestSupport.Litecoin;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans;

// Money-out figures (issue 14, docs/BENCHMARKS.md "Settlement batches"), by hand:
//   dotnet run -c Release --project bench/Settlement.Bench [-- --workers 16 --seconds 10 --payouts 1000 --rounds 3]
// One run: PostgreSQL and litecoind -regtest on loopback, the gateway in this process (real Kestrel, Orleans on
// PostgreSQL, ltc configured with a funded node wallet as its payout wallet).
// 1. Withdrawals accepted/s: POST /v1/withdrawals from `workers` closed-loop callers for `seconds`, each reserving
//    amount + fee on its merchant's LTC balance; baseline in the same run: one-row INSERT transactions/s into a plain
//    table of the same PostgreSQL from as many callers.
// 2. Window close → broadcast: POST /v1/admin/settlements/run?network=ltc with `payouts` queued (claim each withdrawal,
//    Merkle root, fund + sign by the node wallet, write the signed bytes, broadcast), `rounds` times; baseline in the same
//    run: the node wallet's own `sendmany` of as many outputs (fund, sign, broadcast, nothing recorded).
var workers = Option("--workers", 16);
var seconds = Option("--seconds", 10);
var payouts = Option("--payouts", 1_000);
var rounds = Option("--rounds", 3);
using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(30));
var ct = stop.Token;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Settlement.Bench: {Environment.ProcessorCount} cores, load average {LoadAverage()}, {workers} callers for {seconds} s, {payouts} payouts x {rounds} rounds"));

await using var postgres = await PostgresServer.StartAsync(ct);
await using var node = await LitecoinRegtestNode.StartAsync(ct);
var regtest = Network.Litecoin(NetworkChain.Regtest);
await node.Rpc.CreateWalletAsync("hot", ct);
var hot = node.Rpc.ForWallet("hot");
// Coinbase outputs mature after 100 blocks: 50 mature 50-LTC outputs in the hot wallet, plenty of inputs for every round.
await node.Rpc.GenerateToAddressAsync(150, await hot.GetNewAddressAsync("bech32", ct), ct);
await node.Rpc.GenerateToAddressAsync(101, await node.Wallet.GetNewAddressAsync("bech32", ct), ct);
var recipients = new List<string>();
for (var i = 0; i < payouts; i++)
{
    recipients.Add(await node.Wallet.GetNewAddressAsync(i % 2 == 0 ? "bech32" : "legacy", ct));
}

var database = await postgres.CreateDatabaseAsync("settlement_bench", ct);
await using var raw = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database) { MaxPoolSize = workers + 8, NoResetOnClose = true }.ConnectionString);
await using (var create = raw.CreateCommand("CREATE TABLE bench_rows (id uuid PRIMARY KEY, amount numeric NOT NULL, body jsonb NOT NULL)"))
{
    await create.ExecuteNonQueryAsync(ct);
}

var inserts = await ClosedLoopAsync(workers, TimeSpan.FromSeconds(seconds), async (_, token) =>
{
    await using var command = raw.CreateCommand("INSERT INTO bench_rows (id, amount, body) VALUES ($1, $2, $3::jsonb)");
    command.Parameters.Add(new NpgsqlParameter { Value = Guid.NewGuid() });
    command.Parameters.Add(new NpgsqlParameter { Value = 0.01m });
    command.Parameters.Add(new NpgsqlParameter { Value = """{"status":"queued","asset":"LTC"}""" });
    await command.ExecuteNonQueryAsync(token);
}, ct);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw INSERT (one-row transactions): {inserts:F0}/s"));

var (user, password) = node.RpcLogin;
await using var gateway = await BenchGateway.StartAsync(database, ct, new Dictionary<string, string?>
{
    ["Chains:Networks:ltc:Chain"] = "regtest",
    ["Chains:Networks:ltc:RpcUrl"] = node.Rpc.Endpoint.ToString(),
    ["Chains:Networks:ltc:RpcUser"] = user,
    ["Chains:Networks:ltc:RpcPassword"] = password,
    ["Chains:Networks:ltc:AccountKey"] = ExtendedKey.FromSeed(new byte[32], ExtendedKeyVersion.Vpub).Derive(regtest.AccountPath()).Neuter().Serialize(ExtendedKeyVersion.Vpub),
    ["Chains:Networks:ltc:PayoutWallet"] = "hot",
    ["Chains:Networks:ltc:Confirmations"] = "1",
    ["Withdrawals:MaxPayoutsPerBatch"] = payouts.ToString(CultureInfo.InvariantCulture),
});
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = workers + 2 }) { BaseAddress = new Uri(gateway.Urls.First()), Timeout = TimeSpan.FromMinutes(5) };

// One merchant per caller (withdrawals of one balance serialise on it, as they must), each credited 1,000 LTC.
var grains = gateway.Services.GetRequiredService<IGrainFactory>();
var keys = new List<string>();
for (var i = 0; i < workers; i++)
{
    var merchant = await SendAsync(HttpMethod.Post, "/v1/merchants", BenchGateway.AdminKey, """{"name":"Bench shop"}""", 201);
    var merchantId = merchant.GetProperty("id").GetString()!;
    var key = await SendAsync(HttpMethod.Post, $"/v1/merchants/{merchantId}/api-keys", BenchGateway.AdminKey, """{"mode":"live","scopes":["withdrawals:write","balances:read"]}""", 201);
    keys.Add(key.GetProperty("key").GetString()!);
    var credit = new DepositCredit(Guid.Parse(merchantId), Mode.Live, "ltc", "LTC", Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + new string('0', 32), 0, 100_000_000_000, Guid.NewGuid());
    await grains.GetGrain<ILedgerOutputGrain>(credit.OutputKey).Credit(new CreditOutput(credit) { Sender = "bench/deposits", Sequence = 1 });
}

var sequence = 0;
async Task WithdrawAsync(int worker, CancellationToken token)
{
    var n = Interlocked.Increment(ref sequence);
    var body = JsonSerializer.Serialize(new { asset = "LTC", network = "ltc", amount = (0.01m + n % 1000 / 100_000m).ToString(CultureInfo.InvariantCulture), address = recipients[n % recipients.Count] });
    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/withdrawals") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", keys[worker]);
    request.Headers.Add("Idempotency-Key", $"bench-{n}");
    using var response = await http.SendAsync(request, token);
    if ((int)response.StatusCode != 201)
    {
        throw new InvalidOperationException($"POST /v1/withdrawals answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(token)}");
    }
}

// Warm-up (JIT, pools), not counted; then the measured window.
await ClosedLoopAsync(workers, TimeSpan.FromSeconds(Math.Max(2, seconds / 2)), WithdrawAsync, ct);
var accepted = await ClosedLoopAsync(workers, TimeSpan.FromSeconds(seconds), WithdrawAsync, ct);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"POST /v1/withdrawals: {accepted:F0}/s ({accepted / inserts:F2}x raw INSERT)"));
while (sequence < payouts * (rounds + 1))
{
    await WithdrawAsync(sequence % workers, ct);
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sequence} withdrawals queued; load average {LoadAverage()}"));
Console.WriteLine("round | node sendmany of as many outputs | window close -> broadcast (claim, root, fund + sign, write, broadcast) | ratio");
var closes = new List<double>();
for (var round = 0; round <= rounds; round++)
{
    // Round 0 warms the settlement path up (JIT, node wallet) and is not counted.
    var sendmany = Stopwatch.StartNew();
    await node.Wallet.SendManyAsync(recipients.Select((address, i) => (address, 1_000_000L + i)).ToDictionary(), ct);
    sendmany.Stop();

    var close = Stopwatch.StartNew();
    var batch = await SendAsync(HttpMethod.Post, "/v1/admin/settlements/run?network=ltc", BenchGateway.AdminKey, null, 201);
    close.Stop();
    var entries = batch.GetProperty("entries").GetArrayLength();
    var txid = batch.GetProperty("txid").GetString()!;
    var transaction = await node.Rpc.GetRawTransactionAsync(txid, verbose: true, ct);
    if (batch.GetProperty("status").GetString() != "broadcast" || entries != payouts || transaction.Details!.Outputs.Count < payouts + 1)
    {
        throw new InvalidOperationException($"Round {round}: batch {batch}");
    }

    await node.Rpc.GenerateToAddressAsync(1, await node.Wallet.GetNewAddressAsync("bech32", ct), ct);
    var baseline = sendmany.Elapsed.TotalMilliseconds;
    if (round > 0)
    {
        closes.Add(close.Elapsed.TotalSeconds);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{(round == 0 ? "warm-up" : round.ToString(CultureInfo.InvariantCulture))} | {baseline:F0} ms | {close.Elapsed.TotalMilliseconds:F0} ms for {entries} payouts in one transaction of {transaction.Details.Outputs.Count} outputs | {close.Elapsed.TotalMilliseconds / baseline:F2}x"));
}

closes.Sort();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"median window close -> broadcast for {payouts} payouts: {closes[closes.Count / 2]:F2} s (target < 10 s)"));
Console.WriteLine($"load average at end: {LoadAverage()}");
return 0;

async Task<JsonElement> SendAsync(HttpMethod method, string path, string key, string? body, int expected)
{
    using var request = new HttpRequestMessage(method, path);
    if (body is not null)
    {
        request.Content = new StringContent(body, Encoding.UTF8, "application/json");
    }

    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
    using var response = await http.SendAsync(request, ct);
    var text = await response.Content.ReadAsStringAsync(ct);
    return (int)response.StatusCode == expected
        ? JsonDocument.Parse(text).RootElement.Clone()
        : throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {text}");
}

// Operations per second of `callers` loops, each running `operation` back to back for `duration`.
static async Task<double> ClosedLoopAsync(int callers, TimeSpan duration, Func<int, CancellationToken, Task> operation, CancellationToken ct)
{
    long done = 0;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(async () =>
    {
        while (clock.Elapsed < duration)
        {
            await operation(caller, ct);
            Interlocked.Increment(ref done);
        }
    }, ct)));
    return done / clock.Elapsed.TotalSeconds;
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
