using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using CryptoPay.Grains.Ledger;
using CryptoPay.Integration.Tests.LiveGateway;
using CryptoPay.ProcessSupport;
using CryptoPay.TestSupport.Postgres;
using Npgsql;
using Xunit.Abstractions;

namespace CryptoPay.Integration.Tests.Cluster;

/// <summary>
/// What the process fault tests (<see cref="SiloCrashTests"/>, <see cref="SiloHangTests"/>,
/// <see cref="PostgresRestartTests"/>) share: two real silos over PostgreSQL with a test-mode merchant; before the fault,
/// invoices that expire while it lasts and sandbox payments whose blocks are mined while it lasts; invoice-creation load
/// from clients that retry a failed request with the same Idempotency-Key, as merchants are told to; and the checks
/// after the fault (ARCHITECTURE.md guarantees): every acknowledged invoice exists once, every key maps to one invoice,
/// no output is credited twice, the ledger invariants hold, expiries and confirmations due during the fault happen.
/// </summary>
internal sealed class FaultDrill : IAsyncDisposable
{
    /// <summary>The shortest expiry the API accepts (API.md: 60 s … 7 days).</summary>
    public static readonly TimeSpan ShortestExpiry = TimeSpan.FromSeconds(60);

    private const int ExpiringInvoices = 4;
    private const int PaidInvoices = 3;
    /// <summary>
    /// How long a key sent again after the fault may go unanswered: a 409 lasts while an attempt runs, or until its silo
    /// is declared dead (seconds); a 503 until the cluster or database is back. Not the two-minute in-progress lease.
    /// </summary>
    private static readonly TimeSpan KeyRetryTimeout = TimeSpan.FromSeconds(20);

    private readonly ITestOutputHelper output;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly List<(string Id, string Key, DateTimeOffset ExpiresAt)> expiring = [];
    private readonly List<(string Id, BigInteger Units)> paid = [];
    private readonly ConcurrentDictionary<string, ConcurrentBag<string>> acknowledged = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<Attempt> attempts = new();

    private FaultDrill(GatewayCluster cluster, string merchantId, string testKey, ITestOutputHelper output)
    {
        Cluster = cluster;
        MerchantId = merchantId;
        TestKey = testKey;
        this.output = output;
    }

    public GatewayCluster Cluster { get; }

    public string MerchantId { get; }

    public string TestKey { get; }

    /// <summary>Seconds since the drill started, the time base of every attempt.</summary>
    public TimeSpan Now => clock.Elapsed;

    /// <summary>Every request the load and the checks sent, in completion order.</summary>
    public IReadOnlyCollection<Attempt> Attempts => attempts;

    /// <summary>When the last invoice made to expire during the fault falls due.</summary>
    public DateTimeOffset LastExpiry => expiring.Max(e => e.ExpiresAt);

    /// <summary>Starts two silos on a new database of <paramref name="postgres"/> and creates a merchant with room for the load.</summary>
    public static async Task<FaultDrill> StartAsync(PostgresFixture postgres, ITestOutputHelper output, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var cluster = await GatewayCluster.StartAsync(postgres, new Dictionary<string, string>(), 2, ct);
        try
        {
            using var admin = GatewayCluster.Client(cluster.Silos[0], GatewayCluster.AdminKey);
            var (status, merchant) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/merchants", """{"name":"Fault shop","rate_limit_per_minute":1000000}""", ct);
            Assert.True(status == 201, $"{status} {merchant}");
            var testKey = merchant.GetProperty("api_keys").EnumerateArray().Single(k => k.Str("mode") == "test").Str("key");
            output.WriteLine($"two silos ready after {started.Elapsed.TotalSeconds:0.0} s");
            return new FaultDrill(cluster, merchant.Str("id"), testKey, output);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public void Log(string line) => output.WriteLine($"[{Now.TotalSeconds,6:0.0} s] {line}");

    /// <summary>
    /// Before the fault: invoices with the shortest expiry (they fall due while the fault lasts, if it starts within a
    /// minute) and paid sandbox invoices (their block is mined five seconds later, while it lasts).
    /// </summary>
    public async Task PrepareAsync(SiloProcess silo, CancellationToken ct)
    {
        using var merchant = GatewayCluster.Client(silo, TestKey);
        for (var i = 0; i < ExpiringInvoices; i++)
        {
            var key = $"expiring-{i}";
            var invoice = await CreateOrFailAsync(silo, key, $"\"expires_in\":{ShortestExpiry.TotalSeconds:0}", ct);
            expiring.Add((invoice.Str("id"), key, DateTimeOffset.FromUnixTimeSeconds(invoice.GetProperty("expires_at_ts").GetInt64())));
        }

        for (var i = 0; i < PaidInvoices; i++)
        {
            var invoice = await CreateOrFailAsync(silo, $"paid-{i}", null, ct);
            var id = invoice.Str("id");
            var (status, body) = await merchant.SendJsonAsync(HttpMethod.Post, $"/v1/sandbox/invoices/{id}/pay", "{}", ct);
            Assert.True(status == 200, $"paying invoice {id} in the sandbox answered {status}: {body}");
            paid.Add((id, BigInteger.Parse(invoice.Method("usdt_sandbox").Str("amount_units"), CultureInfo.InvariantCulture)));
        }

        Log($"{expiring.Count} invoices expire at {LastExpiry:HH:mm:ss}, {paid.Count} paid in the sandbox (mined within 5 s)");
    }

    /// <summary>Starts <paramref name="clients"/> clients creating invoices through <paramref name="targets"/> round robin until the load is stopped.</summary>
    public InvoiceLoad StartLoad(IReadOnlyList<SiloProcess> targets, int clients = 8) => new(this, targets, clients);

    /// <summary>
    /// Sends one creation with Idempotency-Key <paramref name="key"/> (the body derives from the key, so a retry is the
    /// same request) and records the attempt. Never throws for an HTTP or network failure: the attempt says what happened.
    /// </summary>
    public async Task<Attempt> CreateAsync(SiloProcess silo, string key, string? extraFields = null)
    {
        using var client = GatewayCluster.Client(silo, TestKey);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/invoices")
        {
            Content = new StringContent(Body(key, extraFields), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Idempotency-Key", key);
        var sent = Now;
        Attempt attempt;
        try
        {
            // Not cancelled by the end of the load: a request, once sent, gets its answer, so the log knows whether it was acknowledged.
            using var response = await client.SendAsync(request, CancellationToken.None);
            var text = await response.Content.ReadAsStringAsync(CancellationToken.None);
            var status = (int)response.StatusCode;
            var id = status is 200 or 201 ? JsonDocument.Parse(text).RootElement.GetProperty("id").GetString() : null;
            attempt = new Attempt(key, silo.Name + ":" + silo.Port, sent, Now, status, response.Headers.RetryAfter is not null, id, id is null ? text : null, text);
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
        {
            attempt = new Attempt(key, silo.Name + ":" + silo.Port, sent, Now, 0, false, null, $"{error.GetType().Name}: {error.Message}", null);
        }

        attempts.Enqueue(attempt);
        if (attempt.Id is { } acked)
        {
            acknowledged.GetOrAdd(key, _ => []).Add(acked);
        }

        return attempt;
    }

    /// <summary>Asserts that no answer was a 500 (or anything but success, 409 in progress or 503), and that every 409 and 503 said when to retry.</summary>
    public void AssertEveryAnswerWasSuccessOrRetryable()
    {
        var wrong = attempts.Where(a => a.Status != 0 && a.Status is not (200 or 201) && !(a.Status is 409 or 503 && a.RetryAfter)).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} answers were neither a success nor a 409/503 with Retry-After, e.g.\n" +
                                      string.Join('\n', wrong.Take(5).Select(a => a.ToString())) + $"\n{Cluster.Output}");
        var byStatus = attempts.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{(g.Key == 0 ? "no answer" : g.Key.ToString(CultureInfo.InvariantCulture))}: {g.Count()}");
        Log($"answers: {string.Join(", ", byStatus)}");
    }

    /// <summary>
    /// Prints and returns how long after <paramref name="from"/> the first request sent after it succeeded, and when
    /// answers were all successes again (the first success sent after the last failure).
    /// </summary>
    public (TimeSpan FirstSuccess, TimeSpan AllClear) Recovery(string what, TimeSpan from)
    {
        var done = attempts.ToList();
        var first = done.Where(a => a.Id is not null && a.SentAt >= from).MinBy(a => a.CompletedAt);
        Assert.True(first is not null, $"no request sent after {what} succeeded\n{Cluster.Output}");
        var lastFailure = done.Where(a => a.Id is null && a.CompletedAt >= from).Select(a => a.SentAt).Append(from).Max();
        var clear = done.Where(a => a.Id is not null && a.SentAt >= lastFailure).MinBy(a => a.CompletedAt);
        Assert.True(clear is not null, $"no request succeeded after the last failure at {lastFailure.TotalSeconds:0.0} s\n{Cluster.Output}");
        var result = (first.CompletedAt - from, clear.CompletedAt - from);
        var failures = done.Where(a => a.Id is null && a.CompletedAt >= from).ToList();
        var failed = string.Join(", ", failures.GroupBy(a => a.Status).OrderBy(g => g.Key).Select(g => $"{(g.Key == 0 ? "no answer" : g.Key.ToString(CultureInfo.InvariantCulture))}: {g.Count()}"));
        Log($"recovery after {what}: first success {result.Item1.TotalSeconds:0.00} s later, all answers successes from {result.Item2.TotalSeconds:0.00} s later " +
            $"(failed answers since: {(failed.Length == 0 ? "none" : failed)}; last: {failures.MaxBy(a => a.SentAt)?.ToString() ?? "none"})");
        return result;
    }

    /// <summary>
    /// Every key sent again through <paramref name="survivor"/> until it answers an invoice: an acknowledged key its
    /// invoice, a failed one the invoice its first attempt may have created, or a new one. Then the <c>invoices</c> table
    /// must hold exactly one invoice per key, the one answered.
    /// </summary>
    public async Task VerifyKeysAsync(SiloProcess survivor, CancellationToken ct)
    {
        var started = Stopwatch.StartNew();
        var keys = attempts.Select(a => a.Key).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var final = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            final[key] = await RetryUntilAnsweredAsync(survivor, key, ct);
        }

        foreach (var (key, ids) in acknowledged)
        {
            var distinct = ids.Distinct(StringComparer.Ordinal).ToList();
            Assert.True(distinct.Count == 1 && distinct[0] == final[key],
                $"Idempotency-Key {key} was acknowledged with invoice(s) {string.Join(", ", distinct)} but answers {final[key]} now");
        }

        var stored = await InvoicesByKeyAsync(ct);
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

        Log($"{final.Count} keys ({acknowledged.Count} acknowledged during the load) each answer one stored invoice; checked in {started.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>
    /// Waits until the invoices made to expire during the fault are stored as expired (so the wake reminder fired and
    /// wrote: a read past expires_at says expired before that) and read as expired, and until the paid ones are
    /// confirmed and their credits in the merchant's balance; then checks the ledger invariants on the database.
    /// </summary>
    /// <param name="grace">How long after the last expiry fell due it must be stored: a tick missed or failed during the fault comes again a minute later (EffectGrain.WakePeriod).</param>
    public async Task VerifyTimeDrivenWorkAndLedgerAsync(SiloProcess survivor, TimeSpan grace, CancellationToken ct)
    {
        var deadline = LastExpiry + grace;
        using var merchant = GatewayCluster.Client(survivor, TestKey);
        var expiringIds = expiring.Select(e => e.Id).ToHashSet(StringComparer.Ordinal);
        var paidIds = paid.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var expectedNet = paid.Aggregate(BigInteger.Zero, (sum, p) => sum + GatewayCluster.NetOf(p.Units));
        var waited = Stopwatch.StartNew();
        string last;
        while (true)
        {
            var statuses = await StoredStatusesAsync(ct);
            var notExpired = expiringIds.Where(id => statuses.GetValueOrDefault(id) != "expired").ToList();
            var notConfirmed = paidIds.Where(id => statuses.GetValueOrDefault(id) != "confirmed").ToList();
            var ledger = await Cluster.LedgerAsync(ct);
            var balance = ledger.Balances.Where(b => b.MerchantId.ToString() == MerchantId).Aggregate(BigInteger.Zero, (s, b) => s + b.Available);
            var outputs = ledger.Outputs.Where(o => o.MerchantId.ToString() == MerchantId).ToList();
            // An output posts to the balance before it writes its journal: one killed between the two leaves the balance
            // ahead of the journals until its invoice resends the credit (a minute later), so both are waited for.
            if (notExpired.Count == 0 && notConfirmed.Count == 0 && balance == expectedNet && outputs.Count == paid.Count)
            {
                LedgerInvariants.Check(ledger);
                Assert.Equal(paid.Count, outputs.Count);
                Assert.All(outputs, o => Assert.True(o.Credited && o.Movements.Count == 1, $"output {o.OutputKey}: credited={o.Credited}, {o.Movements.Count} movements"));
                Assert.Equal(paidIds.Order(StringComparer.Ordinal), outputs.Select(o => o.InvoiceId.ToString()).Order(StringComparer.Ordinal));
                break;
            }

            last = $"not yet stored expired: {string.Join(", ", notExpired)}; not yet confirmed: {string.Join(", ", notConfirmed)}; balance {balance} of {expectedNet}; {outputs.Count} of {paid.Count} outputs journaled";
            Assert.True(DateTimeOffset.UtcNow < deadline, $"{grace.TotalSeconds:0} s after the last expiry fell due: {last}\n{Cluster.Output}");
            await Task.Delay(250, ct);
        }

        foreach (var id in expiringIds)
        {
            var (status, invoice) = await merchant.SendJsonAsync(HttpMethod.Get, $"/v1/invoices/{id}", null, ct);
            Assert.True(status == 200 && invoice.Str("status") == "expired", $"GET /v1/invoices/{id}: {status} {invoice}");
        }

        var lateBy = DateTimeOffset.UtcNow - LastExpiry;
        Log($"expiries stored {lateBy.TotalSeconds:0.0} s after the last fell due; {paid.Count} payments confirmed, balance {expectedNet} units, ledger invariants hold " +
            $"(waited {waited.Elapsed.TotalSeconds:0.0} s)");
    }

    public ValueTask DisposeAsync() => Cluster.DisposeAsync();

    private static string Body(string key, string? extraFields) =>
        $$"""{"amount":"1.25","currency":"USD","payment_methods":["usdt_sandbox"],"customer_id":"{{key}}","description":"fault test"{{(extraFields is null ? "" : "," + extraFields)}}}""";

    private async Task<JsonElement> CreateOrFailAsync(SiloProcess silo, string key, string? extraFields, CancellationToken ct)
    {
        var attempt = await CreateAsync(silo, key, extraFields);
        Assert.True(attempt.Id is not null, $"creating {key} before the fault: {attempt}");
        ct.ThrowIfCancellationRequested();
        return JsonDocument.Parse(attempt.Body!).RootElement.Clone();
    }

    private async Task<string> RetryUntilAnsweredAsync(SiloProcess silo, string key, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        var extra = expiring.Any(e => e.Key == key) ? $"\"expires_in\":{ShortestExpiry.TotalSeconds:0}" : null;
        while (true)
        {
            var attempt = await CreateAsync(silo, key, extra);
            if (attempt.Id is not null)
            {
                return attempt.Id;
            }

            Assert.True(waited.Elapsed < KeyRetryTimeout, $"Idempotency-Key {key} still not answered after {KeyRetryTimeout.TotalSeconds:0} s: {attempt}\n{Cluster.Output}");
            // 409 IDEMPOTENCY_IN_PROGRESS (the first attempt's claim) or 503 while the cluster recovers.
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
        }
    }

    private async Task<Dictionary<string, List<string>>> InvoicesByKeyAsync(CancellationToken ct)
    {
        var byKey = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        await foreach (var (key, grainKey, _) in InvoiceRowsAsync(ct))
        {
            if (!byKey.TryGetValue(key, out var ids))
            {
                byKey[key] = ids = [];
            }

            ids.Add(grainKey);
        }

        return byKey;
    }

    /// <summary>Stored status by invoice id (as the API spells it).</summary>
    private async Task<Dictionary<string, string>> StoredStatusesAsync(CancellationToken ct)
    {
        var byId = new Dictionary<string, string>(StringComparer.Ordinal);
        var ids = expiring.Select(e => e.Id).Concat(paid.Select(p => p.Id)).ToList();
        await foreach (var (_, grainKey, status) in InvoiceRowsAsync(ct))
        {
            var id = ids.FirstOrDefault(i => grainKey.Replace("-", "", StringComparison.Ordinal).Contains(Guid.Parse(i, CultureInfo.InvariantCulture).ToString("N"), StringComparison.OrdinalIgnoreCase));
            if (id is not null)
            {
                byId[id] = status;
            }
        }

        return byId;
    }

    private async IAsyncEnumerable<(string CustomerId, string GrainKey, string Status)> InvoiceRowsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(Cluster.Database);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT customer_id, grain_key, status FROM invoices WHERE merchant_id = $1", connection);
        command.Parameters.Add(new() { Value = Guid.Parse(MerchantId, CultureInfo.InvariantCulture) });
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            yield return (reader.GetString(0), reader.GetString(1), reader.GetString(2));
        }
    }

    /// <summary>One request: when it was sent and answered (drill time), its status (0: no answer), whether a 409/503 said when to retry.</summary>
    public sealed record Attempt(string Key, string Silo, TimeSpan SentAt, TimeSpan CompletedAt, int Status, bool RetryAfter, string? Id, string? Error, string? Body)
    {
        public override string ToString() =>
            $"{Key} at {SentAt.TotalSeconds:0.0}-{CompletedAt.TotalSeconds:0.0} s on {Silo}: {(Status == 0 ? "no answer" : Status.ToString(CultureInfo.InvariantCulture))}{(RetryAfter ? " (Retry-After)" : "")} {Id ?? Error}";
    }

    /// <summary>
    /// Clients creating invoices, each with its own keys, round robin over the targets; a client whose request failed
    /// sends the same key again (to the next target) after the Retry-After it was given, at most half a second, so it
    /// stays a load during an outage without inventing thousands of keys.
    /// </summary>
    public sealed class InvoiceLoad
    {
        private readonly FaultDrill drill;
        private readonly List<SiloProcess> targets;
        private readonly CancellationTokenSource stop = new();
        private readonly Task[] clients;

        internal InvoiceLoad(FaultDrill drill, IReadOnlyList<SiloProcess> targets, int clients)
        {
            this.drill = drill;
            this.targets = [.. targets];
            this.clients = Enumerable.Range(0, clients).Select(client => Task.Run(() => RunAsync(client), CancellationToken.None)).ToArray();
        }

        /// <summary>Stops sending to <paramref name="silo"/> (a client's next request goes elsewhere).</summary>
        public void Remove(SiloProcess silo)
        {
            lock (targets)
            {
                targets.Remove(silo);
            }
        }

        /// <summary>
        /// Waits until answers are successes again after <paramref name="from"/>: at least <paramref name="successes"/>
        /// requests sent after the last failure succeeded. Fails after <paramref name="timeout"/>.
        /// </summary>
        public async Task WaitUntilHealthyAsync(TimeSpan from, TimeSpan timeout, CancellationToken ct, int successes = 16)
        {
            var waited = Stopwatch.StartNew();
            while (true)
            {
                var done = drill.attempts.ToList();
                var lastFailure = done.Where(a => a.Id is null && a.CompletedAt >= from).Select(a => a.SentAt).Append(from).Max();
                if (done.Count(a => a.Id is not null && a.SentAt >= lastFailure) >= successes)
                {
                    return;
                }

                Assert.True(waited.Elapsed < timeout,
                    $"answers were not successes again within {timeout.TotalSeconds:0} s; last: {done.LastOrDefault()}\n{drill.Cluster.Output}");
                await Task.Delay(100, ct);
            }
        }

        /// <summary>Waits until <paramref name="count"/> requests sent after <paramref name="from"/> have been answered (any answer).</summary>
        public async Task WaitForAnswersAsync(TimeSpan from, int count, TimeSpan timeout, CancellationToken ct)
        {
            var waited = Stopwatch.StartNew();
            while (drill.attempts.Count(a => a.SentAt >= from && a.Status != 0) < count)
            {
                Assert.True(waited.Elapsed < timeout, $"fewer than {count} answers within {timeout.TotalSeconds:0} s\n{drill.Cluster.Output}");
                await Task.Delay(100, ct);
            }
        }

        /// <summary>Stops the clients; each finishes the request it has sent.</summary>
        public async Task StopAsync()
        {
            await stop.CancelAsync();
            await Task.WhenAll(clients);
            var keys = drill.attempts.Select(a => a.Key).Where(k => k.StartsWith('c')).Distinct(StringComparer.Ordinal).Count();
            drill.Log($"load stopped: {drill.attempts.Count} requests for {keys} keys, {drill.acknowledged.Count} keys acknowledged");
        }

        private async Task RunAsync(int client)
        {
            var turn = client;
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var key = $"c{client}-{n}";
                while (!stop.IsCancellationRequested)
                {
                    SiloProcess silo;
                    lock (targets)
                    {
                        silo = targets[turn++ % targets.Count];
                    }

                    var attempt = await drill.CreateAsync(silo, key);
                    if (attempt.Id is not null)
                    {
                        break;
                    }

                    try
                    {
                        await Task.Delay(attempt.RetryAfter ? TimeSpan.FromMilliseconds(500) : TimeSpan.FromMilliseconds(100), stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        // Stopped: the key is left as it is; the checks send it again.
                    }
                }
            }
        }
    }
}
