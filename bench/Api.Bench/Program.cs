using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CryptoPay.Api.Bench;
using CryptoPay.Api.Bench.Measurement;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

// Merchant API figures against raw PostgreSQL in one run (docs/BENCHMARKS.md, "Merchant API (issue 3)").
// dotnet run -c Release --project bench/Api.Bench [-- --workers 32 --seconds 10 --warmup 2 --gateway-warmup 60 --silos 2 --silos-only --creations-only --allocations]
// --silos 2: afterwards, creations/s against 1 and against 2 real silo processes (src/Silo's build output) on the same
// PostgreSQL, the callers split across both (SiloScaling.cs); --silos-only skips the in-process figures before it.
var workers = Option("--workers", 32);
var seconds = Option("--seconds", 10);
// Before each measured window.
var warmUp = TimeSpan.FromSeconds(Option("--warmup", 2));
// Once, before the gateway's first measured window: the silo is a long-running server, and .NET's tiered JIT (with
// dynamic PGO) recompiles its hot paths for tens of seconds after start. Measured on this machine, the creation path
// still spent ~40% of the gateway's CPU in the JIT 20 s after start, and on another day the tiered-compilation thread
// still took 28% of the samples 38 s after start, so that creations measured after 30 s of warm-up cost 458-790 µs of
// gateway CPU each and after 60 s 395-476 µs (docs/BENCHMARKS.md). 0 measures a cold silo.
var gatewayWarmUp = TimeSpan.FromSeconds(Option("--gateway-warmup", 60));
var silos = Option("--silos", 1);
var silosOnly = args.Contains("--silos-only");
// Only the raw INSERT and the creations, for comparing changes to the creation path quickly (no read or latency figures).
var creationsOnly = args.Contains("--creations-only");
// Prints the most allocated types of each figure, from the runtime's allocation samples, which cost the gateway CPU.
var sampleAllocations = args.Contains("--allocations");
var measure = TimeSpan.FromSeconds(seconds);
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
var ct = stop.Token;

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Api.Bench: {Environment.ProcessorCount} cores, load average {LoadAverage()}, {workers} concurrent callers, {seconds} s per measurement after {warmUp.TotalSeconds:0} s warm-up; gateway warmed up {gatewayWarmUp.TotalSeconds:0} s first"));
using var gc = new GcWindow(sampleAllocations);
await using var postgres = await PostgresServer.StartAsync(ct);
if (silosOnly)
{
    await SiloScaling.RunAsync(postgres, Math.Max(silos, 2), workers, warmUp, measure, gatewayWarmUp, LoadAverage, ct);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load average after the run: {LoadAverage()}"));
    return 0;
}

var database = await postgres.CreateDatabaseAsync("api_bench", ct);
var cpu = new CpuMeter(postgres.DataDirectory);
await using var raw = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(database) { MaxPoolSize = workers + 8, MaxAutoPrepare = 64, AutoPrepareMinUsages = 2, NoResetOnClose = true }.ConnectionString).Build();
await using (var create = raw.CreateCommand("CREATE TABLE bench_rows (id uuid PRIMARY KEY, amount numeric NOT NULL, body jsonb NOT NULL)"))
{
    await create.ExecuteNonQueryAsync(ct);
}

var rowIds = new System.Collections.Concurrent.ConcurrentBag<Guid>();
var insert = await Load.ClosedAsync(workers, warmUp, measure, async (_, token) =>
{
    var id = Guid.NewGuid();
    await using var command = raw.CreateCommand("INSERT INTO bench_rows (id, amount, body) VALUES ($1, $2, $3::jsonb)");
    command.Parameters.Add(new NpgsqlParameter { Value = id });
    command.Parameters.Add(new NpgsqlParameter { Value = 25.50m });
    command.Parameters.Add(new NpgsqlParameter { Value = """{"status":"pending","currency":"USD"}""" });
    await command.ExecuteNonQueryAsync(token);
    rowIds.Add(id);
}, ct, cpu);
Report("raw INSERT (one-row transactions)", insert);
var rows = rowIds.ToArray();
var select = creationsOnly ? null : await Load.ClosedAsync(workers, warmUp, measure, async (i, token) =>
{
    await using var command = raw.CreateCommand("SELECT body FROM bench_rows WHERE id = $1");
    command.Parameters.Add(new NpgsqlParameter { Value = rows[(int)((uint)i * 2654435761u % (uint)rows.Length)] });
    await command.ExecuteScalarAsync(token);
}, ct, cpu);
if (select is not null)
{
    Report("raw primary-key SELECT", select);
}

await using var gateway = await BenchGateway.StartAsync(database, ct);
var baseAddress = new Uri(gateway.Urls.First());
Console.WriteLine($"gateway: real Kestrel at {baseAddress} on PostgreSQL (same server)");

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = workers, PooledConnectionLifetime = Timeout.InfiniteTimeSpan }) { BaseAddress = baseAddress };
var testKey = await BenchGateway.CreateMerchantAsync(http, """{"name":"Bench shop"}""", ct);
var invoiceIds = new System.Collections.Concurrent.ConcurrentBag<string>();
const string invoiceBody = """{"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"]}""";
async Task CreateInvoiceAsync(int _, CancellationToken token)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/invoices") { Content = new StringContent(invoiceBody, Encoding.UTF8, "application/json") };
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", testKey);
    using var response = await http.SendAsync(request, token);
    var body = await response.Content.ReadAsByteArrayAsync(token);
    if ((int)response.StatusCode != 201)
    {
        throw new InvalidOperationException($"create answered {(int)response.StatusCode}: {Encoding.UTF8.GetString(body)}");
    }

    invoiceIds.Add(TopLevelString(body, "id"));
}

string[] invoices = [];
async Task ReadStatusAsync(int i, CancellationToken token)
{
    using var response = await http.GetAsync($"/v1/invoices/{invoices[(int)((uint)i * 2654435761u % (uint)invoices.Length)]}/status", token);
    await response.Content.LoadIntoBufferAsync(token);
    if ((int)response.StatusCode != 200)
    {
        throw new InvalidOperationException($"status answered {(int)response.StatusCode}");
    }
}

if (gatewayWarmUp > TimeSpan.Zero)
{
    // Both measured operations in turns, so the JIT settles on both paths (also with --creations-only, so that its
    // creations meet the same gateway, tables and heap as the full run's). The last turn's JIT time shows whether it has.
    var turn = TimeSpan.FromSeconds(5);
    var jitted = System.Runtime.JitInfo.GetCompilationTime();
    var lastTurnJit = TimeSpan.Zero;
    for (var warmed = TimeSpan.Zero; warmed < gatewayWarmUp; warmed += turn * 2)
    {
        var before = System.Runtime.JitInfo.GetCompilationTime();
        await Load.ClosedAsync(workers, TimeSpan.Zero, turn, CreateInvoiceAsync, ct);
        invoices = [.. invoiceIds];
        await Load.ClosedAsync(workers, TimeSpan.Zero, turn, ReadStatusAsync, ct);
        lastTurnJit = System.Runtime.JitInfo.GetCompilationTime() - before;
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"gateway warm-up: {gatewayWarmUp.TotalSeconds:0} s of creations and status reads in turns (not counted), {invoiceIds.Count:N0} invoices; the JIT compiled for {(System.Runtime.JitInfo.GetCompilationTime() - jitted).TotalSeconds:F1} s, {lastTurnJit.TotalMilliseconds:0} ms of it in the last {(turn * 2).TotalSeconds:0} s"));
}

// The GC figures of the creations start here, not at the gateway's start.
gc.Next();
var creations = await Load.ClosedAsync(workers, warmUp, measure, CreateInvoiceAsync, ct, cpu);
Report("POST /v1/invoices", creations);
if (creationsOnly)
{
    Console.WriteLine();
    Verdict("creations / raw INSERT", creations.PerSecond / insert.PerSecond, ">= 0.25", creations.PerSecond / insert.PerSecond >= 0.25);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load average after the run: {LoadAverage()}"));
    return 0;
}

invoices = [.. invoiceIds];
var reads = await Load.ClosedAsync(workers, warmUp, measure, ReadStatusAsync, ct, cpu);
Report("GET /v1/invoices/{id}/status", reads);
// Reference, not a target: the same route and middleware without the grain call (an id that is no GUID
// answers 404 before any grain is touched), so the HTTP stack's own ceiling on this machine shows in the same run.
var ceiling = await Load.ClosedAsync(workers, warmUp, measure, async (_, token) =>
{
    using var response = await http.GetAsync("/v1/invoices/not-an-invoice-id/status", token);
    await response.Content.LoadIntoBufferAsync(token);
    if ((int)response.StatusCode != 404)
    {
        throw new InvalidOperationException($"status of a malformed id answered {(int)response.StatusCode}");
    }
}, ct, cpu);
Report("GET status, malformed id (no grain)", ceiling);
var halfCreations = await Load.PacedAsync(creations.PerSecond / 2, workers, warmUp, measure, CreateInvoiceAsync, ct, cpu);
Report("POST /v1/invoices at half of peak", halfCreations);
var halfReads = await Load.PacedAsync(reads.PerSecond / 2, workers, warmUp, measure, ReadStatusAsync, ct, cpu);
Report("GET status at half of peak", halfReads);

Console.WriteLine();
Verdict("creations / raw INSERT", creations.PerSecond / insert.PerSecond, ">= 0.25", creations.PerSecond / insert.PerSecond >= 0.25);
Verdict("status reads / raw SELECT", reads.PerSecond / select!.PerSecond, ">= 0.50", reads.PerSecond / select.PerSecond >= 0.5);
Verdict("creations p99 at half of peak (ms)", halfCreations.P99, "< 50", halfCreations.P99 < 50);
Verdict("status reads p99 at half of peak (ms)", halfReads.P99, "< 50", halfReads.P99 < 50);
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"status reads / same route without grain  {reads.PerSecond / ceiling.PerSecond,8:F2}  (info: the HTTP stack's share)"));
await gateway.StopAsync(CancellationToken.None);
if (silos > 1)
{
    var rates = await SiloScaling.RunAsync(postgres, silos, workers, warmUp, measure, gatewayWarmUp, LoadAverage, ct);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"(in-process gateway above: {creations.PerSecond:N0}/s; silo processes / raw INSERT of this run: {string.Join(", ", rates.Select(r => (r / insert.PerSecond).ToString("F2", CultureInfo.InvariantCulture)))})"));
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load average after the run: {LoadAverage()}"));
return 0;

// The created invoice's id, read without building a document of the whole answer: the callers share the gateway's two
// cores, so their own bookkeeping stays as small as the raw INSERT loop's.
static string TopLevelString(byte[] json, string name)
{
    var reader = new Utf8JsonReader(json);
    while (reader.Read())
    {
        if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals(name))
        {
            reader.Read();
            return reader.GetString() ?? throw new InvalidOperationException($"'{name}' is null in the answer.");
        }

        if (reader.CurrentDepth == 1 && reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            reader.Skip();
        }
    }

    throw new InvalidOperationException($"The answer has no '{name}'.");
}

void Report(string what, LoadResult result)
{
    Console.WriteLine($"{what,-38} {result}");
    Console.WriteLine($"{"",38} {gc.Next()}");
}

static void Verdict(string what, double value, string target, bool met) =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-38} {value,8:F2}  target {target,-7} {(met ? "MET" : "MISSED")}"));

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}
