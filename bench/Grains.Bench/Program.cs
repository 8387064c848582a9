using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CryptoPay.Api.Bench.Measurement;
using CryptoPay.ClusterSupport;
using CryptoPay.Grains.Bench;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Storage;
using CryptoPay.Silo.Hosting;
using Orleans.Runtime.Hosting;
using CryptoPay.TestSupport.Postgres;
using Npgsql;
using Orleans;
using Orleans.Runtime;

// Orleans figures of issue 11 that need no HTTP (docs/BENCHMARKS.md, "Orleans (issue 11)"), in one run:
//   (a) grain write calls/s, each call exactly one WriteStateAsync, against raw Npgsql single-row UPDATE transactions/s
//       of the same JSON at the same concurrency, in rotating order within each round; target >= 0.6x. Two storages side
//       by side (ARCHITECTURE.md): the silo's default grain storage (ADO.NET on our OrleansQuery SQL, configured by
//       ConfigureCryptoPay), which the other grain types use, and the projected storage of the hot grain types (invoices,
//       webhook deliveries, ledger outputs, balances: src/Grains/Storage, group commit), on the data source a silo
//       registers; the verdict is the projected storage's, the ADO.NET figure is printed beside it.
//   (b) N invoices created through IInvoiceGrain.Create with the same ExpiresAt second, then the time from that second
//       until all N read expired in the invoices table (the invoice wake sweeper on the real clock); target <= 10 s.
// dotnet run -c Release --project bench/Grains.Bench [-- --workers 32 --seconds 10 --warmup 3 --rounds 3
//   --grains-per-worker 8 --state-bytes 1000 --invoices 10000 --in-flight 100 --lead 0 --expiry-timeout 300 --keep-active
//   --silos 1 --part all|writes|expiry]
var workers = Option("--workers", 32);
var seconds = Option("--seconds", 10);
var warmUp = TimeSpan.FromSeconds(Option("--warmup", 3));
var rounds = Option("--rounds", 3);
var grainsPerWorker = Option("--grains-per-worker", 8);
var stateBytes = Option("--state-bytes", 1000);
var invoiceCount = Option("--invoices", 10_000);
// Creations in flight at once: bounded, so 10,000 state writes do not queue behind each other.
var inFlight = Option("--in-flight", 100);
// Seconds from the end of the creation warm-up to the due second; 0: twice the time the warm-up's rate predicts + 20 s
// (a run whose creations end after the due second says so and is not counted).
var lead = Option("--lead", 0);
var silos = Option("--silos", 1);
var part = TextOption("--part", "all");
var measure = TimeSpan.FromSeconds(seconds);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
var ct = stop.Token;

Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Grains.Bench: {Environment.ProcessorCount} cores, load average {LoadAverage()} at {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC; {silos} silo(s) in this process (GatewayGrainCluster on PostgreSQL, real gateway clock), calls through the silo's own grain factory"));
await using var postgres = await PostgresServer.StartAsync(ct);
var database = await postgres.CreateDatabaseAsync("grains_bench", ct);
var cpu = new CpuMeter(postgres.DataDirectory);
await using var projectedSource = SiloHostingExtensions.CreateDataSource(database);
await using (var create = projectedSource.CreateCommand(BenchProjectedWriteGrain.CreateTable))
{
    await create.ExecuteNonQueryAsync(ct);
}

await using var cluster = await GatewayGrainCluster.StartAsync(database, new GatewayGrainClusterOptions
{
    Silos = silos,
    Services = services => services.AddGrainStorage(BenchProjectedWriteGrain.StorageName, (_, _) =>
        new PostgresProjectedGrainStorage(projectedSource, [BenchProjectedWriteGrain.Projection])),
    GatewayTimeProvider = TimeProvider.System,
    // Thousands of calls in flight on a loaded machine: a slow answer is to be measured, not a failure.
    ResponseTimeout = TimeSpan.FromMinutes(5),
});
var grains = cluster.SiloGrains;
var exitCode = 0;

if (part is "all" or "writes")
{
    exitCode |= await WritesAsync();
}

if (part is "all" or "expiry")
{
    exitCode |= await ExpiryAsync();
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load average after the run: {LoadAverage()}"));
return exitCode;

async Task<int> WritesAsync()
{
    var keys = workers * grainsPerWorker;
    Console.WriteLine();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"(a) writes: {workers} concurrent callers, {keys} rows/grains ({grainsPerWorker} per caller, no two callers on one), state ~{stateBytes} B of JSON, {rounds} rounds of {seconds} s each side after {warmUp.TotalSeconds:0} s warm-up, alternating which goes first"));
    var payload = new string('x', Math.Max(0, stateBytes - JsonSerializer.SerializeToUtf8Bytes(new BenchWriteState { UpdatedAt = DateTimeOffset.UtcNow, Counter = 1_000_000 }).Length));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    stored state: {JsonSerializer.SerializeToUtf8Bytes(new BenchWriteState { UpdatedAt = DateTimeOffset.UtcNow, Counter = 1_000_000, Payload = payload }).Length} B"));
    await using var raw = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(database) { MaxPoolSize = workers + 8, MaxAutoPrepare = 64, AutoPrepareMinUsages = 2, NoResetOnClose = true }.ConnectionString).Build();
    await using (var create = raw.CreateCommand("CREATE TABLE bench_rows (id integer PRIMARY KEY, version integer NOT NULL, state jsonb NOT NULL)"))
    {
        await create.ExecuteNonQueryAsync(ct);
    }

    await using (var fill = raw.CreateCommand("INSERT INTO bench_rows SELECT i, 1, $1::jsonb FROM generate_series(0, $2 - 1) AS i"))
    {
        fill.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(new BenchWriteState { Payload = payload }) });
        fill.Parameters.Add(new NpgsqlParameter { Value = keys });
        await fill.ExecuteNonQueryAsync(ct);
    }

    // Every grain activated and its row inserted before anything is measured (activation reads the row).
    var activation = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, workers).Select(async worker =>
    {
        for (var k = 0; k < grainsPerWorker; k++)
        {
            await grains.GetGrain<IBenchWriteGrain>(GrainKey(worker + k * workers)).Write(0, payload);
            await grains.GetGrain<IBenchProjectedWriteGrain>(GrainKey(worker + k * workers)).Write(0, payload);
        }
    }));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {keys} bench grains activated and first written in {activation.Elapsed.TotalSeconds:F1} s"));

    async Task RawUpdateAsync(int worker, long i)
    {
        var row = worker + (int)(i % grainsPerWorker) * workers;
        await using var command = raw.CreateCommand("UPDATE bench_rows SET state = $2::jsonb, version = version + 1 WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = row });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(new BenchWriteState { Counter = i, UpdatedAt = DateTimeOffset.UtcNow, Payload = payload }) });
        if (await command.ExecuteNonQueryAsync(ct) != 1)
        {
            throw new InvalidOperationException($"row {row} not updated");
        }
    }

    Task GrainWriteAsync(int worker, long i) =>
        grains.GetGrain<IBenchWriteGrain>(GrainKey(worker + (int)(i % grainsPerWorker) * workers)).Write(i, payload);

    Task ProjectedWriteAsync(int worker, long i) =>
        grains.GetGrain<IBenchProjectedWriteGrain>(GrainKey(worker + (int)(i % grainsPerWorker) * workers)).Write(i, payload);

    var ratios = new List<double>();
    var adoNetRatios = new List<double>();
    var loops = new (string Name, Func<int, long, Task> Call)[]
    {
        ("raw Npgsql single-row UPDATE", RawUpdateAsync),
        ("grain call, ADO.NET storage", GrainWriteAsync),
        ("grain call, projected storage", ProjectedWriteAsync),
    };
    for (var round = 1; round <= rounds; round++)
    {
        // Each loop goes first in one round of three, so none always runs on the warmest (or most loaded) machine.
        var results = new LoopResult[loops.Length];
        for (var k = 0; k < loops.Length; k++)
        {
            var index = (round - 1 + k) % loops.Length;
            results[index] = await ClosedLoop.RunAsync(workers, warmUp, measure, loops[index].Call, cpu, ct);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  round {round} (load {LoadAverage()})"));
        for (var k = 0; k < loops.Length; k++)
        {
            Console.WriteLine($"    {loops[k].Name,-36} {results[k]}");
        }

        var (update, adoNet, projected) = (results[0], results[1], results[2]);
        ratios.Add(projected.PerSecond / update.PerSecond);
        adoNetRatios.Add(adoNet.PerSecond / update.PerSecond);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    ratio projected {ratios[^1]:F2} (CPU per op {projected.CpuMicrosPerOperation / update.CpuMicrosPerOperation:F2}x raw), ADO.NET {adoNetRatios[^1]:F2} (CPU per op {adoNet.CpuMicrosPerOperation / update.CpuMicrosPerOperation:F2}x raw)"));
    }

    var median = Median(ratios);
    var met = median >= 0.6;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"grain writes on ADO.NET storage / raw UPDATE, median of {rounds} rounds  {Median(adoNetRatios),6:F2}  (rounds: {string.Join(", ", adoNetRatios.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))})"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"grain writes on projected storage / raw UPDATE, median of {rounds} rounds  {median,6:F2}  (rounds: {string.Join(", ", ratios.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))})  target >= 0.60  {(met ? "MET" : "MISSED")}"));
    return met ? 0 : 1;
}

async Task<int> ExpiryAsync()
{
    Console.WriteLine();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"(b) expiry: {invoiceCount:N0} invoices created through IInvoiceGrain.Create, {inFlight} in flight at once, all with the same ExpiresAt second"));
    await using var dataSource = NpgsqlDataSource.Create(database);

    // Warm-up: the creation path's JIT, then a rate to choose the due second by (the second half's: a cold first half
    // runs at a quarter of it); these invoices expire an hour later.
    var warmMerchant = Guid.NewGuid();
    var warmCount = Math.Min(invoiceCount, 500);
    var cold = await CreateAllAsync(warmMerchant, warmCount / 2, DateTimeOffset.UtcNow.AddHours(1));
    var warm = await CreateAllAsync(warmMerchant, warmCount - (warmCount / 2), DateTimeOffset.UtcNow.AddHours(1));
    var warmRate = (warmCount - (warmCount / 2)) / warm.Elapsed.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"    warm-up: {warmCount} creations in {(cold.Elapsed + warm.Elapsed).TotalSeconds:F1} s (second half {warmRate:N0}/s), {cold.Retries + warm.Retries} retried, {cold.Failed + warm.Failed} failed"));

    var leadTime = lead > 0 ? TimeSpan.FromSeconds(lead) : TimeSpan.FromSeconds(2 * invoiceCount / warmRate + 20);
    var now = DateTimeOffset.UtcNow;
    var due = DateTimeOffset.FromUnixTimeSeconds((now + leadTime).ToUnixTimeSeconds() + 1);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    due second: {due:HH:mm:ss} UTC ({(due - now).TotalSeconds:F0} s ahead)"));
    var merchant = Guid.NewGuid();
    var created = await CreateAllAsync(merchant, invoiceCount, due);
    var finishedAt = DateTimeOffset.UtcNow;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"    created {invoiceCount - created.Failed:N0} in {created.Elapsed.TotalSeconds:F1} s ({(invoiceCount - created.Failed) / created.Elapsed.TotalSeconds:N0}/s, load {LoadAverage()}), {created.Retries} retried, {created.Failed} failed{(created.FirstError is { } e ? $"; first error: {e}" : "")}"));
    var (total, pending, _) = await CountAsync(dataSource, merchant);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    invoices table: {total:N0} rows of this merchant, {pending:N0} pending; creation finished {(due - finishedAt).TotalSeconds:F1} s before the due second"));
    if (finishedAt >= due || created.Failed > 0 || total != invoiceCount)
    {
        Console.WriteLine("    NOT VALID: creation failed or did not finish before the due second; rerun with a larger --lead or fewer --in-flight");
        return 1;
    }

    // An invoice expires an hour or days after its creation, long after Orleans collected its idle activation: unless
    // --keep-active, the sweeper wakes deactivated grains (activation, state read, then the expiry's write).
    var management = grains.GetGrain<IManagementGrain>(0);
    var activeBefore = await management.GetTotalActivationCount();
    if (!args.Contains("--keep-active"))
    {
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        await management.ForceActivationCollection(TimeSpan.FromSeconds(1));
        var activeAfter = await management.GetTotalActivationCount();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    idle activations collected: {activeBefore:N0} activations before, {activeAfter:N0} after ({(due - DateTimeOffset.UtcNow).TotalSeconds:F1} s before the due second)"));
    }
    else
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    --keep-active: the {activeBefore:N0} activations stay (the sweeper finds the invoices in memory)"));
    }

    // Poll the table from the due second on: the time of the first poll that sees every invoice expired.
    await Task.Delay(due - DateTimeOffset.UtcNow, ct);
    var since = Stopwatch.StartNew();
    var limit = TimeSpan.FromSeconds(Option("--expiry-timeout", 300));
    var nextReport = TimeSpan.FromSeconds(1);
    var reports = new List<string>();
    long expired = 0;
    while (since.Elapsed < limit)
    {
        (_, _, expired) = await CountAsync(dataSource, merchant);
        if (expired == invoiceCount)
        {
            break;
        }

        if (since.Elapsed >= nextReport)
        {
            reports.Add(string.Create(CultureInfo.InvariantCulture, $"{nextReport.TotalSeconds:0} s: {expired:N0}"));
            nextReport += TimeSpan.FromSeconds(1);
        }

        await Task.Delay(100, ct);
    }

    var took = since.Elapsed;
    Console.WriteLine($"    expired so far, by second after the due one: {string.Join("; ", reports)}");
    if (expired != invoiceCount)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    only {expired:N0} of {invoiceCount:N0} expired {limit.TotalSeconds:0} s after the due second (load {LoadAverage()})  target <= 10 s  MISSED"));
        return 1;
    }

    var met = took <= TimeSpan.FromSeconds(10);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"all {invoiceCount:N0} expired {took.TotalSeconds:F2} s after the due second (polled every 100 ms; load {LoadAverage()})  target <= 10 s  {(met ? "MET" : "MISSED")}"));
    return met ? 0 : 1;
}

async Task<Creation> CreateAllAsync(Guid merchant, int count, DateTimeOffset expiresAt)
{
    var next = -1;
    var retries = 0;
    var failed = 0;
    string? firstError = null;
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, Math.Min(inFlight, count)).Select(_ => Task.Run(async () =>
    {
        for (var i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
        {
            // A creation that failed (or timed out, and may still run) is sent again to the same grain: Create returns
            // the invoice it holds.
            var id = Guid.NewGuid();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await CreateInvoiceAsync(id, merchant, expiresAt);
                    break;
                }
                catch (Exception error) when (error is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    Interlocked.CompareExchange(ref firstError, $"{error.GetType().Name}: {error.Message}", null);
                    if (attempt == 3)
                    {
                        Interlocked.Increment(ref failed);
                        break;
                    }

                    Interlocked.Increment(ref retries);
                    await Task.Delay(TimeSpan.FromSeconds(attempt), ct);
                }
            }
        }
    }, ct)));
    return new Creation(watch.Elapsed, retries, failed, firstError);
}

Task CreateInvoiceAsync(Guid id, Guid merchant, DateTimeOffset expiresAt)
{
    var now = DateTimeOffset.UtcNow;
    const long units = 25_500_000;
    return grains.GetGrain<IInvoiceGrain>(id).Create(new InvoiceSpec
    {
        MerchantId = merchant,
        Mode = Mode.Test,
        Amount = 25.50m,
        Currency = "USD",
        CreatedAt = now,
        ExpiresAt = expiresAt,
        AmountReporting = 25.50m,
        PaymentMethods =
        [
            new InvoicePaymentMethod
            {
                Method = "usdt_sandbox", Network = "sandbox", Asset = "USDT", Decimals = 6, Amount = 25.50m, AmountUnits = units, Rate = 1m,
                RequiredConfirmations = 1,
            },
        ],
    });
}

static async Task<(long Total, long Pending, long Expired)> CountAsync(NpgsqlDataSource dataSource, Guid merchant)
{
    await using var command = dataSource.CreateCommand(
        "SELECT count(*), count(*) FILTER (WHERE status = $2), count(*) FILTER (WHERE status = $3) FROM invoices WHERE merchant_id = $1");
    command.Parameters.Add(new NpgsqlParameter { Value = merchant });
    command.Parameters.Add(new NpgsqlParameter { Value = InvoiceProjection.Name(InvoiceStatus.Pending) });
    command.Parameters.Add(new NpgsqlParameter { Value = InvoiceProjection.Name(InvoiceStatus.Expired) });
    await using var reader = await command.ExecuteReaderAsync();
    await reader.ReadAsync();
    return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
}

static string GrainKey(int index) => string.Create(CultureInfo.InvariantCulture, $"bench-write-{index}");

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

string TextOption(string name, string fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

internal sealed record Creation(TimeSpan Elapsed, int Retries, int Failed, string? FirstError);
