using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CryptoPay.Api.Tests.Hosting;
using CryptoPay.Api.Tests.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.TestSupport.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace CryptoPay.Api.Tests.Requests;

/// <summary>
/// Issue 13's proof on PostgreSQL: ten thousand generated hostile requests from one merchant (malformed JSON, wrong
/// types, NULs, bytes that are not UTF-8, lone surrogates, duplicate keys, huge and deep bodies, odd headers and
/// targets) while another merchant creates and pays invoices. Every hostile request gets a 4xx, every valid creation
/// exactly one 201, no invoice is duplicated and the ledger balances. Replay a failure with HOSTILE_SEED.
/// </summary>
[Collection("postgres")]
public sealed class PostgresHostileTrafficTests(PostgresFixture postgres, ITestOutputHelper output) : IAsyncLifetime
{
    private const int HostileRequests = 10_000;
    private const int HostileWorkers = 4;
    private const int ValidCreations = 300;
    private const string KeptOrder = "kept";

    private static readonly string[] Poisons = ["\\u0000", "a\\u0000", "\\ud800", "\\ud800x", "x\\udc00y", "\\udc00\\ud800"];
    private static readonly byte[][] BadBytes = [[0xff, 0xfe], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];

    private GatewayHost host = null!;

    private sealed record HostileRequest(HttpMethod Method, string Path, byte[]? Body, string? ContentType = null, bool Admin = false, params (string Name, string Value)[] Headers)
    {
        public override string ToString() =>
            $"{Method} {(Path.Length > 120 ? Path[..120] + "…" : Path)} {(Body is null ? "" : Convert.ToHexString(Body.AsSpan(0, Math.Min(Body.Length, 80))))} " +
            string.Join(" ", Headers.Select(h => $"{h.Name}:{(h.Value.Length > 40 ? h.Value[..40] + "…" : h.Value)}"));
    }

    public async Task InitializeAsync() =>
        host = await GatewayHost.StartAsync(await postgres.CreateDatabaseAsync(), new Dictionary<string, string?> { ["Api:RateLimitPerMinute"] = "10000000" });

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Ten_thousand_hostile_requests_beside_valid_creations_get_4xx_and_leave_one_invoice_per_creation()
    {
        var seed = Environment.GetEnvironmentVariable("HOSTILE_SEED") is { } fixedSeed ? int.Parse(fixedSeed, CultureInfo.InvariantCulture) : Random.Shared.Next();
        output.WriteLine($"seed {seed} (rerun with HOSTILE_SEED={seed})");
        var hostileKey = (await host.CreateMerchantAsync("""{"name":"Hostile"}""")).TestKey;
        var honestKey = (await host.CreateMerchantAsync("""{"name":"Honest"}""")).TestKey;
        using var hostile = host.ClientWith(hostileKey);
        using var honest = host.ClientWith(honestKey);
        var kept = await hostile.PostJsonAsync("/v1/invoices", $$"""{"amount":"1","currency":"USD","order_id":"{{KeptOrder}}","payment_methods":["usdt_sandbox"]}""");
        Assert.Equal(201, kept.Status);
        var hostileBefore = (await hostile.GetJsonAsync("/v1/invoices")).Body.ToString();

        // Header values go out byte for byte (Latin-1), so the generator can send bytes that are not UTF-8.
        using var handler = new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.Latin1 };
        using var raw = new HttpClient(handler) { BaseAddress = host.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var failures = new ConcurrentQueue<string>();
        var hostileWork = Enumerable.Range(0, HostileWorkers).Select(worker => Task.Run(async () =>
        {
            var random = new Random(unchecked((seed * 31) + worker));
            for (var i = worker; i < HostileRequests && failures.Count < 10; i += HostileWorkers)
            {
                var request = Generate(random, kept.Body.Str("id"));
                var (status, problem) = await SendAsync(raw, request, request.Admin ? GatewayHost.AdminKey : hostileKey, $"h{seed}-{i}");
                // Kestrel refuses a NUL in the path (%00) itself, with a bare 400, before any application code runs.
                if (status is not (>= 400 and < 500) || !(problem || (status == 400 && request.Path.Split('?')[0].Contains("%00", StringComparison.Ordinal))))
                {
                    failures.Enqueue($"#{i} {request} -> {status}{(problem ? "" : " without a problem body with a code")}");
                }
            }
        })).ToList();
        var created = new ConcurrentDictionary<int, string>();
        var honestWork = Task.Run(async () =>
        {
            for (var i = 0; i < ValidCreations; i++)
            {
                var answer = await honest.PostJsonAsync("/v1/invoices", ValidInvoice(i), r => r.Headers.Add("Idempotency-Key", $"honest-{i}"));
                if (answer.Status != 201)
                {
                    failures.Enqueue($"valid creation {i} -> {answer.Status} {answer.Body}");
                    continue;
                }

                created[i] = answer.Body.Str("id");
                if (i % 10 == 0)
                {
                    var paid = await honest.PostJsonAsync($"/v1/sandbox/invoices/{created[i]}/pay", "{}");
                    if (paid.Status != 200)
                    {
                        failures.Enqueue($"payment of valid creation {i} -> {paid.Status} {paid.Body}");
                    }
                }
            }
        });
        await Task.WhenAll([.. hostileWork, honestWork]);
        Assert.True(failures.IsEmpty, $"seed {seed} (rerun with HOSTILE_SEED={seed}):\n" + string.Join("\n", failures));

        // Each creation answered 201 once; its key replays that answer and the store holds one invoice per creation.
        for (var i = 0; i < ValidCreations; i++)
        {
            var replay = await honest.PostJsonAsync("/v1/invoices", ValidInvoice(i), r => r.Headers.Add("Idempotency-Key", $"honest-{i}"));
            Assert.True(replay.Status == 201 && replay.Body.Str("id") == created[i], $"seed {seed}: replay {i} -> {replay.Status} {replay.Body}");
        }

        var listed = await ListAllAsync(honest);
        Assert.Equal(ValidCreations, listed.Count);
        Assert.Equal(created.Values.Order(StringComparer.Ordinal), listed.Select(i => i.Str("id")).Order(StringComparer.Ordinal));
        Assert.Equal(Enumerable.Range(0, ValidCreations).Select(i => $"honest-{i}").Order(StringComparer.Ordinal), listed.Select(i => i.Str("order_id")).Order(StringComparer.Ordinal));
        Assert.Equal(hostileBefore, (await hostile.GetJsonAsync("/v1/invoices")).Body.ToString());

        await host.AdvanceAsync(TimeSpan.FromSeconds(10));
        await LedgerInvariants.CheckAsync(host.Services.GetRequiredService<ILedgerQuery>());
        Assert.Equal(ValidCreations / 10, (await ListAllAsync(honest)).Count(i => i.Str("status") is "confirming" or "confirmed"));
    }

    private static string ValidInvoice(int i) =>
        JsonSerializer.Serialize(new
        {
            amount = (1 + (i % 97)).ToString(CultureInfo.InvariantCulture) + ".25",
            currency = "USD",
            payment_methods = new[] { "usdt_sandbox" },
            order_id = $"honest-{i}",
            description = $"Valid ☕ order {i} 👨‍👩‍👧",
            metadata = new Dictionary<string, object> { ["n"] = i, ["note"] = "ok" },
        });

    private static async Task<List<JsonElement>> ListAllAsync(HttpClient client)
    {
        var items = new List<JsonElement>();
        for (var page = 1; ; page++)
        {
            var body = (await client.GetJsonAsync($"/v1/invoices?page={page}&page_size=100")).Body;
            items.AddRange(body.GetProperty("items").EnumerateArray());
            if (!body.GetProperty("pagination").GetProperty("has_more").GetBoolean())
            {
                return items;
            }
        }
    }

    /// <summary>The status and whether the body is a problem with a code; a connection the server closed on an oversized body counts as its 413.</summary>
    private static async Task<(int Status, bool Problem)> SendAsync(HttpClient client, HostileRequest hostile, string key, string idempotencyKey)
    {
        using var request = new HttpRequestMessage(hostile.Method, hostile.Path);
        if (hostile.Body is not null)
        {
            request.Content = new ByteArrayContent(hostile.Body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", hostile.ContentType ?? "application/json");
        }

        request.Headers.TryAddWithoutValidation("Authorization", $"Bearer {key}");
        if (!hostile.Headers.Any(h => h.Name == "Idempotency-Key"))
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        foreach (var (name, value) in hostile.Headers)
        {
            if (name == "Authorization")
            {
                request.Headers.Remove(name);
            }

            request.Headers.TryAddWithoutValidation(name, value);
        }

        try
        {
            using var response = await client.SendAsync(request);
            return ((int)response.StatusCode, IsProblem(response, await response.Content.ReadAsStringAsync()));
        }
        catch (HttpRequestException) when (hostile.Body is { Length: > 64 * 1024 })
        {
            return (413, true);
        }
    }

    private static bool IsProblem(HttpResponseMessage response, string text)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            return false;
        }

        using var json = JsonDocument.Parse(text);
        return json.RootElement.TryGetProperty("code", out var code) && code.GetString() is { Length: > 0 };
    }

    private static HostileRequest Generate(Random random, string kept)
    {
        switch (random.Next(12))
        {
            case < 4:
                // The memory-store generator's malformed JSON, wrong types, bad ids, wrong methods and media types.
                var (method, path, body, contentType) = HostileInputTests.Generate(random, kept);
                return new HostileRequest(method, path, body is null ? null : Encoding.UTF8.GetBytes(body), contentType);
            case 4:
                return new HostileRequest(HttpMethod.Post, "/v1/invoices", Encoding.UTF8.GetBytes(PoisonedInvoice(random, Pick(random, Poisons))));
            case 5:
                return new HostileRequest(HttpMethod.Post, "/v1/invoices", InvalidUtf8Invoice(random));
            case 6:
                return PoisonedElsewhere(random, kept);
            case 7:
                return new HostileRequest(HttpMethod.Post, "/v1/invoices", Encoding.UTF8.GetBytes(DuplicateKeys(random)));
            case 8:
                return HugeOrDeep(random);
            case 9:
                return new HostileRequest(HttpMethod.Post, "/v1/invoices", Encoding.UTF8.GetBytes(ValidInvoice(random.Next())),
                    Pick(random, ["application/json; charset=utf-16", "application/json; charset=latin1", "application/json; charset=iso-8859-1", "application/json; charset=\"ucs-2\""]));
            case 10:
                return OddHeaders(random);
            default:
                return OddTarget(random);
        }
    }

    /// <summary>A valid invoice with one string (a value or a key, at any depth) carrying a NUL or a lone surrogate.</summary>
    private static string PoisonedInvoice(Random random, string poison)
    {
        var fields = new[]
        {
            $$"""{"amount":"5","currency":"USD","description":"{{poison}}"}""",
            $$"""{"amount":"5","currency":"USD","order_id":"o{{poison}}"}""",
            $$"""{"amount":"5","currency":"USD","customer_id":"{{poison}}c"}""",
            $$"""{"amount":"5{{poison}}","currency":"USD"}""",
            $$"""{"amount":"5","currency":"USD{{poison}}"}""",
            $$$"""{"amount":"5","currency":"USD","metadata":{"k":"{{{poison}}}"}}""",
            $$$"""{"amount":"5","currency":"USD","metadata":{"{{{poison}}}":"v"}}""",
            $$$$"""{"amount":"5","currency":"USD","metadata":{"a":{"b":["x","{{{{poison}}}}"]}}}""",
            $$"""{"amount":"5","currency":"USD","line_items":[{"description":"{{poison}}","amount":"5","quantity":1}]}""",
            $$"""{"amount":"5","currency":"USD","customer_email":"a{{poison}}@example.com"}""",
            $$"""{"amount":"5","currency":"USD","redirect_url":"https://example.com/{{poison}}"}""",
            $$"""{"amount":"5","currency":"USD","{{poison}}":1}""",
        };
        return Pick(random, fields);
    }

    private static byte[] InvalidUtf8Invoice(Random random)
    {
        var text = PoisonedInvoice(random, "\u0001MARK\u0001");
        var at = text.IndexOf("\u0001MARK\u0001", StringComparison.Ordinal);
        return [.. Encoding.UTF8.GetBytes(text[..at]), .. Pick(random, BadBytes), .. Encoding.UTF8.GetBytes(text[(at + 6)..])];
    }

    /// <summary>Payment links, webhook endpoints, markings and merchants with a poisoned string.</summary>
    private static HostileRequest PoisonedElsewhere(Random random, string kept)
    {
        var poison = Pick(random, Poisons);
        return random.Next(4) switch
        {
            0 => new HostileRequest(HttpMethod.Post, "/v1/payment-links", Encoding.UTF8.GetBytes($$"""{"amount":"5","currency":"USD","description":"link {{poison}}"}""")),
            1 => new HostileRequest(HttpMethod.Post, "/v1/webhook-endpoints", Encoding.UTF8.GetBytes($$"""{"url":"https://example.com/hook","description":"{{poison}}"}""")),
            2 => new HostileRequest(HttpMethod.Patch, $"/v1/invoices/{kept}", Encoding.UTF8.GetBytes($$"""{"status":"cancelled","comment":"{{poison}}"}""")),
            _ => new HostileRequest(HttpMethod.Post, "/v1/merchants", Encoding.UTF8.GetBytes($$"""{"name":"Shop {{poison}}"}"""), Admin: true),
        };
    }

    private static string DuplicateKeys(Random random) => Pick(random,
    [
        """{"amount":"10.00","amount":"99999","currency":"USD"}""",
        """{"amount":"10.00","currency":"USD","currency":"EUR"}""",
        """{"amount":"1","\u0061mount":"2","currency":"USD"}""",
        """{"amount":"1","currency":"USD","metadata":{"a":1,"a":2}}""",
        """{"amount":"1","currency":"USD","line_items":[{"description":"a","amount":"1","amount":"2"}]}""",
    ]);

    private static HostileRequest HugeOrDeep(Random random)
    {
        var depth = random.Next(33, 4000);
        return random.Next(3) switch
        {
            0 => new HostileRequest(HttpMethod.Post, "/v1/invoices", Encoding.UTF8.GetBytes(
                """{"amount":"1","currency":"USD","metadata":{"deep":""" + new string('[', depth) + new string(']', depth) + "}}")),
            1 => new HostileRequest(HttpMethod.Post, "/v1/invoices", Encoding.UTF8.GetBytes(
                "{\"amount\":\"1\",\"currency\":\"USD\",\"description\":\"" + new string('z', random.Next(65 * 1024, 200 * 1024)) + "\"}")),
            _ => new HostileRequest(HttpMethod.Post, "/v1/invoices", Encoding.UTF8.GetBytes(
                """{"amount":"1","currency":"USD","metadata":{""" + string.Join(",", Enumerable.Range(0, random.Next(51, 2000)).Select(k => $"\"k{k}\":{k}")) + "}}")),
        };
    }

    /// <summary>Headers over the limits, idempotency keys and credentials that are not UTF-8 or not text, odd media types.</summary>
    private static HostileRequest OddHeaders(Random random)
    {
        var body = Encoding.UTF8.GetBytes(ValidInvoice(random.Next()));
        return random.Next(6) switch
        {
            0 => new HostileRequest(HttpMethod.Post, "/v1/invoices", body, null, false, ("X-Big", new string('h', random.Next(33 * 1024, 200 * 1024)))),
            1 => new HostileRequest(HttpMethod.Post, "/v1/invoices", body, null, false, [.. Enumerable.Range(0, random.Next(101, 600)).Select(n => ($"X-N{n}", "v"))]),
            2 => new HostileRequest(HttpMethod.Post, "/v1/invoices", body, null, false, ("Idempotency-Key", Pick(random, ["\u00ff\u00fe", "a\u00e9b", "k\u0001", "k\u007f", "\u00ed\u00a0\u0080"]))),
            3 => new HostileRequest(HttpMethod.Post, "/v1/invoices", body, null, false, ("Idempotency-Key", new string('k', random.Next(256, 4000)))),
            4 => new HostileRequest(HttpMethod.Post, "/v1/invoices", body, null, false, ("Authorization", Pick(random, ["Bearer \u00ff", "Bearer cp_test_\u00e9", "Basic Og==", "Bearer", "bearer  ", "Bearer cp_live_x.y"]))),
            // Whether or not a type is refused as such, the amount is: nothing may be created.
            _ => new HostileRequest(HttpMethod.Post, "/v1/invoices", Encoding.UTF8.GetBytes("""{"amount":"0","currency":"USD"}"""),
                Pick(random, ["application/json; charset=\u00ff", "application/json; x=\u0001", "text/json; charset=utf-7", "application/json, text/plain", "*/*"])),
        };
    }

    /// <summary>Query strings and paths carrying NUL, bytes that are not UTF-8, or far too much.</summary>
    private static HostileRequest OddTarget(Random random)
    {
        var filter = Pick(random, ["order_id", "customer_id", "network", "currency", "status", "created_after", "sort_by"]);
        var path = random.Next(4) switch
        {
            // A NUL alone must be refused: it is the one character a filter could carry into the store.
            0 => $"/v1/invoices?{filter}={Pick(random, ["%00", "a%00b", "%00%00"])}",
            1 => $"/v1/invoices/{Pick(random, ["%00", "%FF%FE", "%ED%A0%80", "%C0%80"])}",
            2 => $"/v1/invoices?{filter}={Pick(random, ["%FF%FE", "%ED%A0%80", "%C0%80", "%F8%88%80%80%80"])}&page_size=0",
            _ => "/v1/invoices?order_id=" + new string('q', random.Next(9 * 1024, 60 * 1024)),
        };
        return new HostileRequest(HttpMethod.Get, path, null);
    }

    private static T Pick<T>(Random random, T[] options) => options[random.Next(options.Length)];
}
