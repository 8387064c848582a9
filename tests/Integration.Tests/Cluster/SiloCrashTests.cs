using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using CryptoPay.ProcessSupport;
using CryptoPay.TestSupport.Postgres;
using Npgsql;
using Xunit.Abstractions;

namespace CryptoPay.Integration.Tests.Cluster;

/// <summary>
/// Two real silo processes over one PostgreSQL under concurrent writes; one is killed with SIGKILL
/// mid-load. Every acknowledged operation must survive, and every operation that committed anywhere
/// must reach the aggregate exactly once (architecture guarantees 3 and 5).
/// </summary>
[Collection("postgres")]
public sealed class SiloCrashTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private const int Clients = 8;
    private const int Keys = 20;

    /// <summary>src/Runtime's membership as tests/Runtime.ProcessHost serves it (/v1/cluster/silos is Orleans').</summary>
    private const string RuntimeMembersPath = "/test/runtime/silos";
    private static readonly TimeSpan LoadBeforeKill = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan LoadAfterKill = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(55);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task Acknowledged_operations_survive_kill_9_of_a_silo_and_apply_exactly_once()
    {
        var elapsed = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        var seed = Random.Shared.Next();
        output.WriteLine($"seed {seed}");
        var database = await postgres.CreateDatabaseAsync(ct: ct);

        var starting = new[] { ProcessHostExecutable.StartAsync(database, ct), ProcessHostExecutable.StartAsync(database, ct) };
        await using var victim = await starting[0];
        await using var survivor = await starting[1];
        var victimId = await SelfIdAsync(victim, ct);
        output.WriteLine($"silos ready after {elapsed.Elapsed.TotalSeconds:0.0} s");

        var log = new OperationLog();
        var targets = new SiloTargets([victim, survivor]);
        using (var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            var clients = Enumerable.Range(0, Clients)
                .Select(client => Task.Run(() => RunClientAsync(client, seed, targets, log, stopLoad.Token), CancellationToken.None))
                .ToArray();
            await Task.Delay(LoadBeforeKill, ct);
            await WaitForMessagesLeasedToAsync(database, victimId, ct);

            var inFlight = targets.InFlight(victim);
            victim.Kill();
            targets.Remove(victim);
            log.MarkKill();
            Assert.True(await victim.WaitForExitAsync(TimeSpan.FromSeconds(10), ct) != 0, "the killed silo exited with code 0");
            output.WriteLine(
                $"killed {victimId} after {elapsed.Elapsed.TotalSeconds:0.0} s with {inFlight} requests in flight to it " +
                $"and {await CountMessagesLeasedToAsync(database, victimId, ct)} outbox messages leased to it");
            await Task.Delay(LoadAfterKill, ct);

            await stopLoad.CancelAsync();
            await Task.WhenAll(clients);
        }

        ct.ThrowIfCancellationRequested();
        output.WriteLine(
            $"load done after {elapsed.Elapsed.TotalSeconds:0.0} s: {log.Acked.Count} acknowledged " +
            $"({log.AckedAfterKillBy(survivor)} by the survivor after the kill), {log.Failed.Count} failed");
        Assert.True(log.AckedBeforeKill > 0, "no operation was acknowledged before the kill, so the kill proved nothing");
        Assert.True(log.AckedAfterKillBy(survivor) > 0, "the survivor acknowledged no operation after the kill");
        var survivorFailures = log.Failed.Where(f => f.Silo == survivor).ToList();
        Assert.True(
            survivorFailures.Count == 0,
            $"{survivorFailures.Count} requests to the surviving silo failed, e.g. {survivorFailures.FirstOrDefault()?.Error}\n{survivor.Output}");

        await WaitForEmptyOutboxAsync(database, ct);
        output.WriteLine($"outbox drained after {elapsed.Elapsed.TotalSeconds:0.0} s");

        var total = await GetSnapshotAsync(survivor, "/total", ct);
        var grains = new Dictionary<string, Snapshot>(StringComparer.Ordinal);
        for (var key = 0; key < Keys; key++)
        {
            grains[KeyName(key)] = await GetSnapshotAsync(survivor, $"/grains/{KeyName(key)}", ct);
        }

        AssertNoDuplicates("total", total);
        foreach (var (key, grain) in grains)
        {
            AssertNoDuplicates(key, grain);
        }

        foreach (var ack in log.Acked)
        {
            Assert.True(grains[ack.Key].Ops.TryGetValue(ack.OpId, out var inGrain) && inGrain == 1, $"acknowledged op {ack.OpId} is not in grain {ack.Key} exactly once (seed {seed})");
            Assert.True(total.Ops.TryGetValue(ack.OpId, out var inTotal) && inTotal == 1, $"acknowledged op {ack.OpId} is not in the total exactly once (seed {seed})");
        }

        var inGrains = grains.SelectMany(g => g.Value.Ops.Keys).ToHashSet(StringComparer.Ordinal);
        var missingFromTotal = inGrains.Where(op => !total.Ops.ContainsKey(op)).ToList();
        var unknownInTotal = total.Ops.Keys.Where(op => !inGrains.Contains(op)).ToList();
        Assert.True(missingFromTotal.Count == 0, $"committed ops whose message never reached the total: {string.Join(", ", missingFromTotal.Take(10))}");
        Assert.True(unknownInTotal.Count == 0, $"ops in the total that no grain committed: {string.Join(", ", unknownInTotal.Take(10))}");

        var sent = log.AllSent();
        var strangers = inGrains.Where(op => !sent.ContainsKey(op)).ToList();
        Assert.True(strangers.Count == 0, $"ops nobody sent were applied: {string.Join(", ", strangers.Take(10))}");
        Assert.Equal(grains.Values.Sum(g => g.Value), total.Value);
        Assert.Equal(inGrains.Sum(op => sent[op]), total.Value);

        var failedButApplied = log.Failed.Count(f => inGrains.Contains(f.OpId));
        output.WriteLine($"{failedButApplied} of {log.Failed.Count} failed requests had committed before the kill; total {total.Value} over {inGrains.Count} ops");

        await AssertVictimListedDeadAsync(survivor, victimId, ct);
        output.WriteLine($"finished after {elapsed.Elapsed.TotalSeconds:0.0} s");
    }

    private static async Task RunClientAsync(int client, int seed, SiloTargets targets, OperationLog log, CancellationToken stop)
    {
        var random = new Random(seed + client);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var key = KeyName(random.Next(Keys));
            var opId = $"c{client}-{n}";
            long amount = random.Next(1, 1_000);
            var live = targets.Current;
            var silo = live[(client + n) % live.Count];
            var sentBeforeKill = !log.Killed;
            targets.Sending(silo, +1);
            try
            {
                // Not cancelled by `stop`: an op, once sent, gets its answer, so the log knows whether it was acknowledged.
                using var response = await silo.Http.PostAsync($"/ops/{key}/{opId}/{amount}", content: null, CancellationToken.None);
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                if (response.IsSuccessStatusCode)
                {
                    log.Acknowledge(new Ack(key, opId, amount, silo, sentBeforeKill, long.Parse(body, CultureInfo.InvariantCulture)));
                }
                else
                {
                    log.Fail(new Failure(key, opId, amount, silo, $"{(int)response.StatusCode} {body}"));
                }
            }
            catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
            {
                log.Fail(new Failure(key, opId, amount, silo, error.Message));
            }
            finally
            {
                targets.Sending(silo, -1);
            }
        }
    }

    private static async Task WaitForEmptyOutboxAsync(string database, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(ct);
        while (true)
        {
            var (pending, attempts, error) = await ReadOutboxAsync(connection, ct);
            if (pending == 0)
            {
                return;
            }

            if (waited.Elapsed > DrainTimeout)
            {
                Assert.Fail($"{pending} messages still in cp_messages after {DrainTimeout.TotalSeconds:0} s (max attempts {attempts}, an error: {error ?? "none"})");
            }

            await Task.Delay(200, ct);
        }
    }

    private static async Task<(long Pending, int MaxAttempts, string? AnError)> ReadOutboxAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand("SELECT count(*), coalesce(max(attempts), 0), max(last_error) FROM cp_messages", connection);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return (reader.GetInt64(0), reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2));
    }

    /// <summary>Lets the kill land while the victim owns undelivered messages (briefly, bounded), so their takeover is exercised.</summary>
    private static async Task WaitForMessagesLeasedToAsync(string database, string siloId, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(3) && await CountMessagesLeasedToAsync(database, siloId, ct) == 0)
        {
            await Task.Delay(10, ct);
        }
    }

    private static async Task<long> CountMessagesLeasedToAsync(string database, string siloId, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM cp_messages WHERE lease_owner = $1", connection);
        command.Parameters.Add(new() { Value = siloId });
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    private static async Task AssertVictimListedDeadAsync(SiloProcess survivor, string victimId, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            using var members = JsonDocument.Parse(await survivor.Http.GetStringAsync(RuntimeMembersPath, ct));
            var victim = members.RootElement.GetProperty("silos").EnumerateArray().Single(s => s.GetProperty("silo_id").GetString() == victimId);
            if (!victim.GetProperty("is_alive").GetBoolean())
            {
                Assert.Equal("active", victim.GetProperty("status").GetString());
                return;
            }

            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(15), $"the killed silo {victimId} is still listed alive: {victim}");
            await Task.Delay(200, ct);
        }
    }

    private static async Task<string> SelfIdAsync(SiloProcess silo, CancellationToken ct)
    {
        using var members = JsonDocument.Parse(await silo.Http.GetStringAsync(RuntimeMembersPath, ct));
        return members.RootElement.GetProperty("self").GetString()!;
    }

    private static async Task<Snapshot> GetSnapshotAsync(SiloProcess silo, string path, CancellationToken ct) =>
        await silo.Http.GetFromJsonAsync<Snapshot>(path, Json, ct) ?? throw new InvalidOperationException($"GET {path} returned null");

    private static void AssertNoDuplicates(string name, Snapshot snapshot)
    {
        Assert.True(snapshot.Duplicates.Count == 0, $"{name} applied ops twice: {string.Join(", ", snapshot.Duplicates.Take(10))}");
        var counted = snapshot.Ops.Where(o => o.Value != 1).Select(o => $"{o.Key}×{o.Value}").ToList();
        Assert.True(counted.Count == 0, $"{name} applied ops more than once: {string.Join(", ", counted.Take(10))}");
    }

    private static string KeyName(int key) => $"acct-{key:D2}";

    private sealed record Snapshot(long Value, Dictionary<string, int> Ops, List<string> Duplicates);

    private sealed record Ack(string Key, string OpId, long Amount, SiloProcess Silo, bool SentBeforeKill, long NewValue);

    private sealed record Failure(string Key, string OpId, long Amount, SiloProcess Silo, string Error);

    /// <summary>The silos clients may send to (the killed one is removed), with the requests in flight to each.</summary>
    private sealed class SiloTargets(IReadOnlyList<SiloProcess> initial)
    {
        private readonly ConcurrentDictionary<SiloProcess, int> inFlight = new();
        private volatile IReadOnlyList<SiloProcess> current = initial;

        public IReadOnlyList<SiloProcess> Current => current;

        public int InFlight(SiloProcess silo) => inFlight.GetValueOrDefault(silo);

        public void Sending(SiloProcess silo, int change) => inFlight.AddOrUpdate(silo, change, (_, count) => count + change);

        public void Remove(SiloProcess silo) => current = [.. current.Where(s => s != silo)];
    }

    /// <summary>What the clients sent and what they were told.</summary>
    private sealed class OperationLog
    {
        private readonly ConcurrentQueue<Ack> acked = new();
        private readonly ConcurrentQueue<Failure> failed = new();
        private volatile bool killed;

        public bool Killed => killed;

        public IReadOnlyCollection<Ack> Acked => acked;

        public IReadOnlyCollection<Failure> Failed => failed;

        public int AckedBeforeKill => acked.Count(a => a.SentBeforeKill);

        public void MarkKill() => killed = true;

        public int AckedAfterKillBy(SiloProcess silo) => acked.Count(a => !a.SentBeforeKill && a.Silo == silo);

        public void Acknowledge(Ack ack) => acked.Enqueue(ack);

        public void Fail(Failure failure) => failed.Enqueue(failure);

        /// <summary>Amount of every op sent, acknowledged or not.</summary>
        public Dictionary<string, long> AllSent() =>
            acked.Select(a => (a.OpId, a.Amount)).Concat(failed.Select(f => (f.OpId, f.Amount))).ToDictionary(p => p.OpId, p => p.Amount, StringComparer.Ordinal);
    }
}
