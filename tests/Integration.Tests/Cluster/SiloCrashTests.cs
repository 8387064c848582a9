using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CryptoPay.Integration.Tests.LiveGateway;
using CryptoPay.ProcessSupport;
using CryptoPay.TestSupport.Postgres;
using Npgsql;
using Xunit.Abstractions;

namespace CryptoPay.Integration.Tests.Cluster;

/// <summary>
/// Two real CryptoPay.Silo processes (Orleans over ADO.NET clustering, one PostgreSQL) under concurrent invoice
/// creation, each request with an Idempotency-Key of its own; one silo is killed with SIGKILL mid-load. Afterwards every
/// acknowledged invoice exists once, every key maps to one invoice (a retry on the survivor answers the same id),
/// and the survivor kept answering (architecture guarantees 3 and 5). This replaces the retired runtime's process test
/// (tests/Runtime.ProcessHost, counter grains and an outbox), which proved the same on src/Runtime.
/// </summary>
[Collection("postgres")]
public sealed class SiloCrashTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Clients = 8;
    private static readonly TimeSpan LoadBeforeKill = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan LoadAfterKill = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan RetryTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan TestTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Acknowledged_invoices_survive_kill_9_of_a_silo_and_each_Idempotency_Key_maps_to_one_invoice()
    {
        var elapsed = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        await using var cluster = await GatewayCluster.StartAsync(postgres, new Dictionary<string, string>(), 2, ct);
        var (survivor, victim) = (cluster.Silos[0], cluster.Silos[1]);
        using var admin = GatewayCluster.Client(survivor, GatewayCluster.AdminKey);
        var (merchantStatus, merchant) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/merchants", """{"name":"Crash shop","rate_limit_per_minute":1000000}""", ct);
        Assert.True(merchantStatus == 201, $"{merchantStatus} {merchant}");
        var testKey = merchant.GetProperty("api_keys").EnumerateArray().Single(k => k.Str("mode") == "test").Str("key");
        output.WriteLine($"silos ready after {elapsed.Elapsed.TotalSeconds:0.0} s");

        var log = new ConcurrentDictionary<string, Outcome>(StringComparer.Ordinal);
        var targets = new List<SiloProcess> { survivor, victim };
        var killed = false;
        using (var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            var clients = Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
            {
                for (var n = 0; !stopLoad.IsCancellationRequested; n++)
                {
                    SiloProcess silo;
                    lock (targets)
                    {
                        silo = targets[(client + n) % targets.Count];
                    }

                    var key = $"c{client}-{n}";
                    log[key] = await CreateAsync(silo, testKey, key, Volatile.Read(ref killed));
                }
            }, CancellationToken.None)).ToArray();

            await Task.Delay(LoadBeforeKill, ct);
            victim.Kill();
            lock (targets)
            {
                targets.Remove(victim);
            }

            Volatile.Write(ref killed, true);
            output.WriteLine($"killed the second silo after {elapsed.Elapsed.TotalSeconds:0.0} s");
            await Task.Delay(LoadAfterKill, ct);
            await stopLoad.CancelAsync();
            await Task.WhenAll(clients);
        }

        var acked = log.Where(e => e.Value.Id is not null).ToDictionary(e => e.Key, e => e.Value.Id!, StringComparer.Ordinal);
        var failed = log.Where(e => e.Value.Id is null).Select(e => e.Key).ToList();
        output.WriteLine($"load done after {elapsed.Elapsed.TotalSeconds:0.0} s: {acked.Count} acknowledged, {failed.Count} failed " +
                         $"(e.g. {failed.Select(k => log[k].Error).FirstOrDefault() ?? "none"})");
        Assert.True(log.Values.Count(o => o.Id is not null && !o.AfterKill) > 0, "no invoice was acknowledged before the kill, so the kill proved nothing");
        Assert.True(log.Values.Count(o => o.Id is not null && o.AfterKill) > 0, $"the survivor acknowledged no invoice after the kill\n{survivor.Output}");

        // Every key again, on the survivor: an acknowledged one answers its invoice; one that failed answers the invoice
        // its first attempt may have created, or creates it now. Either way the key ends with exactly one invoice.
        var recovery = Stopwatch.StartNew();
        var final = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in log.Keys.Order(StringComparer.Ordinal))
        {
            final[key] = await RetryUntilAnsweredAsync(survivor, testKey, key, ct);
            if (acked.TryGetValue(key, out var id))
            {
                Assert.True(id == final[key], $"Idempotency-Key {key} was acknowledged with invoice {id} but a retry answered {final[key]}");
            }
        }

        output.WriteLine($"every key answered again on the survivor after {recovery.Elapsed.TotalSeconds:0.0} s");
        var stored = await InvoicesByKeyAsync(cluster.Database, merchant.Str("id"), ct);
        var duplicates = stored.Where(s => s.Value.Count > 1).Select(s => $"{s.Key}: {string.Join(", ", s.Value)}").ToList();
        Assert.True(duplicates.Count == 0, $"keys with more than one invoice: {string.Join("; ", duplicates.Take(10))}");
        Assert.Equal(final.Keys.Order(StringComparer.Ordinal), stored.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, id) in final)
        {
            var grainKey = stored[key].Single();
            Assert.True(
                grainKey.Replace("-", "", StringComparison.Ordinal).Contains(Guid.Parse(id, CultureInfo.InvariantCulture).ToString("N"), StringComparison.OrdinalIgnoreCase),
                $"Idempotency-Key {key} answered invoice {id} but the stored one is {grainKey}");
        }

        output.WriteLine($"finished after {elapsed.Elapsed.TotalSeconds:0.0} s: {final.Count} keys, {final.Count} invoices");
    }

    private static string Body(string key) =>
        $$"""{"amount":"1.25","currency":"USD","payment_methods":["usdt_sandbox"],"customer_id":"{{key}}","description":"crash test"}""";

    private static async Task<Outcome> CreateAsync(SiloProcess silo, string apiKey, string key, bool afterKill)
    {
        using var client = GatewayCluster.Client(silo, apiKey);
        client.DefaultRequestHeaders.Add("Idempotency-Key", key);
        try
        {
            // Not cancelled by the end of the load: a request, once sent, gets its answer, so the log knows whether it was acknowledged.
            var (status, body) = await client.SendJsonAsync(HttpMethod.Post, "/v1/invoices", Body(key), CancellationToken.None);
            return status is 200 or 201 ? new Outcome(body.Str("id"), null, afterKill) : new Outcome(null, $"{status} {body}", afterKill);
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
        {
            return new Outcome(null, error.Message, afterKill);
        }
    }

    private static async Task<string> RetryUntilAnsweredAsync(SiloProcess silo, string apiKey, string key, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        string last;
        while (true)
        {
            var outcome = await CreateAsync(silo, apiKey, key, afterKill: true);
            if (outcome.Id is not null)
            {
                return outcome.Id;
            }

            last = outcome.Error ?? "";
            Assert.True(waited.Elapsed < RetryTimeout, $"Idempotency-Key {key} still not answered after {RetryTimeout.TotalSeconds:0} s: {last}");
            // 409 IDEMPOTENCY_IN_PROGRESS (the first attempt's claim, until it expires) or 503 while the cluster recovers.
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
    }

    private static async Task<Dictionary<string, List<string>>> InvoicesByKeyAsync(string database, string merchantId, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT customer_id, grain_key FROM invoices WHERE merchant_id = $1", connection);
        command.Parameters.Add(new() { Value = Guid.Parse(merchantId, CultureInfo.InvariantCulture) });
        await using var reader = await command.ExecuteReaderAsync(ct);
        var byKey = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            var key = reader.GetString(0);
            if (!byKey.TryGetValue(key, out var ids))
            {
                byKey[key] = ids = [];
            }

            ids.Add(reader.GetString(1));
        }

        return byKey;
    }

    private sealed record Outcome(string? Id, string? Error, bool AfterKill);
}
