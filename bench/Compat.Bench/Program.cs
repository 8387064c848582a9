using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CryptoPay.Api.Bench;
using CryptoPay.TestSupport.Postgres;

// Per-request overhead of each compatibility profile against the same operation on /v1 (docs/BENCHMARKS.md,
// "Compatibility profiles"; target >= 0.9x): creations/s and reads/s through the profile and through /v1, each pair
// measured back to back in every round, on the in-process gateway over PostgreSQL.
// dotnet run -c Release --project bench/Compat.Bench [-- --workers 16 --seconds 5 --rounds 3 --gateway-warmup 20]
var workers = Option("--workers", 16);
var measure = TimeSpan.FromSeconds(Option("--seconds", 5));
var rounds = Option("--rounds", 3);
var warmUp = TimeSpan.FromSeconds(1);
var gatewayWarmUp = TimeSpan.FromSeconds(Option("--gateway-warmup", 20));
var ct = CancellationToken.None;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Compat.Bench: {Environment.ProcessorCount} cores, load average {LoadAverage()}, {workers} callers, {measure.TotalSeconds:0} s per figure, {rounds} rounds"));

await using var postgres = await PostgresServer.StartAsync(ct);
var database = await postgres.CreateDatabaseAsync("compat_bench", ct);
await using var gateway = await BenchGateway.StartAsync(database, ct);
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = workers, PooledConnectionLifetime = Timeout.InfiniteTimeSpan }) { BaseAddress = new Uri(gateway.Urls.First()) };

// Each profile's creation and read, and the /v1 request asking for the same thing; ids are read from the answers.
var pairs = new List<(string Name, Operation Profile, Operation V1)>();
async Task AddAsync(string name, string format, Func<string, Operation> profile, Func<string, Operation> v1)
{
    var key = await TestKeyAsync(format);
    pairs.Add((name, profile(key), v1(await TestKeyAsync("cryptopay"))));
}

await AddAsync("layerpay", "layerpay",
    key => new Operation(key, "x-api-key", "/compat/layerpay/invoice/create", """{"amount":"25.50","currency":"USD"}""", 200, b => b.GetProperty("id").GetString()!, id => $"/compat/layerpay/invoice/{id}/status", Idempotent: false),
    key => new Operation(key, "Authorization", "/v1/invoices", """{"amount":"25.50","currency":"USD"}""", 201, b => b.GetProperty("id").GetString()!, id => $"/v1/invoices/{id}/status", Idempotent: false));
await AddAsync("pepay", "pepay",
    key => new Operation(key, "x-api-key", "/compat/pepay/api/v1/invoices", """{"amount_usd":25.50}""", 200, b => b.GetProperty("id").GetString()!, id => $"/compat/pepay/api/v1/invoices/{id}", Idempotent: true),
    key => new Operation(key, "Authorization", "/v1/invoices", """{"amount":"25.50","currency":"USD","expires_in":43200}""", 201, b => b.GetProperty("id").GetString()!, id => $"/v1/invoices/{id}", Idempotent: true));
await AddAsync("cryptopayment", "cryptopayment",
    key => new Operation(key, "Authorization", "/compat/cryptopayment/api/v1/invoices", """{"network":"trc20","amount_usd":25.50}""", 200, b => b.GetProperty("invoice").GetProperty("id").GetString()!, id => $"/compat/cryptopayment/api/v1/invoices/{id}", Idempotent: false),
    key => new Operation(key, "Authorization", "/v1/invoices", """{"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"]}""", 201, b => b.GetProperty("id").GetString()!, id => $"/v1/invoices/{id}", Idempotent: false));
await AddAsync("ippan", "ippan",
    key => new Operation(key, "Authorization", "/compat/ippan/v1/payments", """{"amount":2550,"currency":"USDC","description":"Bench"}""", 201, b => b.GetProperty("id").GetString()!, id => $"/compat/ippan/v1/payments/{id}", Idempotent: false),
    key => new Operation(key, "Authorization", "/v1/invoices", """{"amount":"25.50","currency":"USDC","description":"Bench"}""", 201, b => b.GetProperty("id").GetString()!, id => $"/v1/invoices/{id}", Idempotent: false));
await AddAsync("invoice-api", "invoice-api",
    key => new Operation(key, "X-API-Key", "/compat/invoice-api/invoices", """{"order_id":"{n}","fiat_amount":25.5,"fiat_currency":"EUR","currency":"USDT"}""", 201, b => b.GetProperty("invoice_id").GetString()!, id => $"/compat/invoice-api/invoices/{id}", Idempotent: false),
    key => new Operation(key, "Authorization", "/v1/invoices", """{"order_id":"{n}","amount":"25.50","currency":"EUR","payment_methods":["usdt_sandbox"]}""", 201, b => b.GetProperty("id").GetString()!, id => $"/v1/invoices/{id}", Idempotent: false));

// The silo is a long-running server: let the JIT settle on every path first (not counted).
foreach (var (_, profile, v1) in pairs)
{
    foreach (var operation in new[] { profile, v1 })
    {
        await Load.ClosedAsync(workers, TimeSpan.Zero, gatewayWarmUp / (pairs.Count * 4), (_, token) => operation.CreateAsync(http, token), ct);
        await Load.ClosedAsync(workers, TimeSpan.Zero, gatewayWarmUp / (pairs.Count * 4), (i, token) => operation.ReadAsync(http, i, token), ct);
    }
}

var ratios = pairs.ToDictionary(p => p.Name, _ => (Creations: new List<double>(), Reads: new List<double>()));
for (var round = 1; round <= rounds; round++)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round} (load average {LoadAverage()})"));
    foreach (var (name, profile, v1) in pairs)
    {
        // Alternate which goes first, so neither always runs on the warmer (or more loaded) half.
        var (first, second) = round % 2 == 1 ? (profile, v1) : (v1, profile);
        var created = new Dictionary<Operation, LoadResult>(ReferenceEqualityComparer.Instance);
        var read = new Dictionary<Operation, LoadResult>(ReferenceEqualityComparer.Instance);
        foreach (var operation in new[] { first, second })
        {
            created[operation] = await Load.ClosedAsync(workers, warmUp, measure, (_, token) => operation.CreateAsync(http, token), ct);
        }

        foreach (var operation in new[] { first, second })
        {
            read[operation] = await Load.ClosedAsync(workers, warmUp, measure, (i, token) => operation.ReadAsync(http, i, token), ct);
        }

        ratios[name].Creations.Add(created[profile].PerSecond / created[v1].PerSecond);
        ratios[name].Reads.Add(read[profile].PerSecond / read[v1].PerSecond);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-14} creations {created[profile].PerSecond,7:N0}/s vs /v1 {created[v1].PerSecond,7:N0}/s = {ratios[name].Creations[^1]:F2}x   reads {read[profile].PerSecond,7:N0}/s vs /v1 {read[v1].PerSecond,7:N0}/s = {ratios[name].Reads[^1]:F2}x"));
    }
}

Console.WriteLine();
foreach (var (name, (creations, reads)) in ratios)
{
    var c = Median(creations);
    var r = Median(reads);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{name,-14} median of {rounds}: creations {c:F2}x, reads {r:F2}x of /v1   target >= 0.90  {(c >= 0.9 && r >= 0.9 ? "MET" : "MISSED")}"));
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"load average after the run: {LoadAverage()}"));
await gateway.StopAsync(CancellationToken.None);
return 0;

Task<string> TestKeyAsync(string format) =>
    BenchGateway.CreateMerchantAsync(http, $$"""{"name":"Bench shop","key_format":"{{format}}"}""", ct);

static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
}

/// <summary>One way to create an invoice and read it back, with the key sent as its API expects.</summary>
internal sealed record Operation(string Key, string Header, string CreatePath, string Body, int Created, Func<JsonElement, string> IdOf, Func<string, string> ReadPath, bool Idempotent)
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> ids = new();
    private string[] readable = [];
    private long sent;

    public async Task CreateAsync(HttpClient http, CancellationToken ct)
    {
        // {n}: a number of its own per request, for fields that must be unique (an order id).
        var body = Body.Replace("{n}", Interlocked.Increment(ref sent).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Post, CreatePath) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        Authorize(request);
        if (Idempotent)
        {
            request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString("N"));
        }

        using var response = await http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if ((int)response.StatusCode != Created)
        {
            throw new InvalidOperationException($"POST {CreatePath} answered {(int)response.StatusCode}: {text}");
        }

        using var created = JsonDocument.Parse(text);
        ids.Enqueue(IdOf(created.RootElement));
    }

    public async Task ReadAsync(HttpClient http, int i, CancellationToken ct)
    {
        if (readable.Length < ids.Count)
        {
            readable = [.. ids];
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, ReadPath(readable[(int)((uint)i * 2654435761u % (uint)readable.Length)]));
        Authorize(request);
        using var response = await http.SendAsync(request, ct);
        await response.Content.LoadIntoBufferAsync(ct);
        if ((int)response.StatusCode != 200)
        {
            throw new InvalidOperationException($"GET {request.RequestUri} answered {(int)response.StatusCode}");
        }
    }

    private void Authorize(HttpRequestMessage request)
    {
        if (Header == "Authorization")
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        }
        else
        {
            request.Headers.Add(Header, Key);
        }
    }
}
