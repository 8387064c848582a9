using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CryptoPay.ProcessSupport;
using CryptoPay.TestSupport.Postgres;

namespace CryptoPay.Api.Bench;

/// <summary>
/// Invoice creations over HTTP against real silo processes (the build output of src/Silo, started as operators start
/// it, as the process fault tests do): one silo, then <c>silos</c> silos on one new database each of the same
/// PostgreSQL, the callers split evenly across the silos' base addresses. Reported, not judged: on this 2-core machine
/// the silos share the cores with PostgreSQL and the callers.
/// </summary>
internal static class SiloScaling
{
    private const string InvoiceBody = """{"amount":"25.50","currency":"USD","payment_methods":["usdt_sandbox"]}""";
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromMinutes(3);

    /// <summary>Creations/s with 1 and with <paramref name="silos"/> silo processes; the rates, in that order.</summary>
    public static async Task<IReadOnlyList<double>> RunAsync(
        PostgresServer postgres, int silos, int workers, TimeSpan warmUp, TimeSpan measure, TimeSpan gatewayWarmUp, Func<string> loadAverage, CancellationToken ct)
    {
        var siloPath = BuildOutputs.Locate(typeof(SiloScaling).Assembly, "CryptoPay.Silo.Path");
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"creations over HTTP against silo processes ({siloPath}): 1, then {silos}, each on a new database of the same PostgreSQL; {workers} callers split across the silos; each cluster warmed up {gatewayWarmUp.TotalSeconds:0} s with creations first"));
        var rates = new List<double>();
        int[] counts = silos == 1 ? [1] : [1, silos];
        foreach (var count in counts)
        {
            var database = await postgres.CreateDatabaseAsync($"api_bench_{count}_silos", ct);
            var environment = new Dictionary<string, string?>
            {
                ["ConnectionStrings__Postgres"] = database,
                ["Admin__ApiKey"] = BenchGateway.AdminKey,
                ["Api__RateLimitPerMinute"] = int.MaxValue.ToString(CultureInfo.InvariantCulture),
                ["Logging__LogLevel__Default"] = "Warning",
            };
            var started = Stopwatch.StartNew();
            var starting = Enumerable.Range(0, count).Select(_ => SiloProcess.StartAsync(siloPath, environment, ReadyTimeout, ct)).ToList();
            var processes = new List<SiloProcess>();
            try
            {
                try
                {
                    await Task.WhenAll(starting);
                }
                finally
                {
                    processes.AddRange(starting.Where(s => s.IsCompletedSuccessfully).Select(s => s.Result));
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {count} silo process(es) ready in {started.Elapsed.TotalSeconds:F1} s: {string.Join(", ", processes.Select(p => p.BaseAddress))}"));
                var clients = processes.Select(p => new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = workers, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
                {
                    BaseAddress = p.BaseAddress,
                    Timeout = TimeSpan.FromSeconds(60),
                }).ToList();
                try
                {
                    var testKey = await BenchGateway.CreateMerchantAsync(clients[0], """{"name":"Bench shop","rate_limit_per_minute":1000000}""", ct);
                    // Load.RunAsync numbers operations worker * 1,000,000 + i: worker w sends to silo w mod count.
                    async Task CreateAsync(int operation, CancellationToken token)
                    {
                        var client = clients[operation / 1_000_000 % clients.Count];
                        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/invoices") { Content = new StringContent(InvoiceBody, Encoding.UTF8, "application/json") };
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", testKey);
                        using var response = await client.SendAsync(request, token);
                        var text = await response.Content.ReadAsStringAsync(token);
                        if ((int)response.StatusCode != 201)
                        {
                            throw new InvalidOperationException($"create answered {(int)response.StatusCode}: {text}");
                        }
                    }

                    if (gatewayWarmUp > TimeSpan.Zero)
                    {
                        await Load.ClosedAsync(workers, TimeSpan.Zero, gatewayWarmUp, CreateAsync, ct);
                    }

                    var result = await Load.ClosedAsync(workers, warmUp, measure, CreateAsync, ct);
                    Console.WriteLine($"  {$"POST /v1/invoices, {count} silo process(es)",-38} {result}  (load {loadAverage()})");
                    rates.Add(result.PerSecond);
                }
                finally
                {
                    clients.ForEach(c => c.Dispose());
                }
            }
            finally
            {
                foreach (var process in processes)
                {
                    await process.DisposeAsync();
                }
            }
        }

        if (rates.Count == 2)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"creations/s, {silos} silo processes / 1  {rates[1] / rates[0],8:F2}  ({rates[0]:N0}/s -> {rates[1]:N0}/s; reported, no target: 2 cores shared with PostgreSQL and the callers)"));
        }

        return rates;
    }
}
