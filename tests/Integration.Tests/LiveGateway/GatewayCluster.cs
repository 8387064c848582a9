using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Numerics;
using System.Text;
using System.Text.Json;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Ledger;
using CryptoPay.ProcessSupport;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.Integration.Tests.LiveGateway;

/// <summary>
/// CryptoPay.Silo.dll, as operators run it, in several processes over one fresh PostgreSQL database, configured only by
/// environment variables: an admin key, a 2.5 % deposit fee, private webhook targets allowed (the receiver is on
/// loopback), and the chains the test passes (SiloProcess gives each silo its own Orleans ports).
/// Disposing checks the ledger invariants on the database, then kills the silos.
/// </summary>
internal sealed class GatewayCluster : IAsyncDisposable
{
    public const string AdminKey = "live-gateway-admin-key-0123456789";
    public const int FeeBasisPoints = 250;

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(60);

    private readonly string database;
    private readonly List<SiloProcess> silos;

    private GatewayCluster(string database, List<SiloProcess> silos)
    {
        this.database = database;
        this.silos = silos;
    }

    public IReadOnlyList<SiloProcess> Silos => silos;

    /// <summary>The connection string of the cluster's database.</summary>
    public string Database => database;

    private static string SiloPath => BuildOutputs.Locate(typeof(GatewayCluster).Assembly, "CryptoPay.Silo.Path");

    /// <summary>Starts <paramref name="count"/> silos together on a new database of <paramref name="postgres"/>.</summary>
    public static async Task<GatewayCluster> StartAsync(PostgresFixture postgres, IReadOnlyDictionary<string, string> chains, int count, CancellationToken ct)
    {
        var database = await postgres.CreateDatabaseAsync(ct: ct);
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__Postgres"] = database,
            ["Admin__ApiKey"] = AdminKey,
            ["Ledger__FeeBasisPoints"] = FeeBasisPoints.ToString(CultureInfo.InvariantCulture),
            ["Webhooks__AllowPrivateTargets"] = "true",
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__LogLevel__CryptoPay"] = "Information",
        };
        foreach (var (key, value) in chains)
        {
            environment[key] = value;
        }

        var starting = Enumerable.Range(0, count).Select(_ => SiloProcess.StartAsync(SiloPath, environment, ReadyTimeout, ct)).ToList();
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var started in starting.Where(s => s.IsCompletedSuccessfully))
            {
                await started.Result.DisposeAsync();
            }

            throw;
        }

        return new GatewayCluster(database, [.. starting.Select(s => s.Result)]);
    }

    /// <summary>Everything every silo printed, for failure messages.</summary>
    public string Output => string.Join('\n', silos.Select(s => s.Output));

    /// <summary>Creates a merchant with the admin key through the first silo; returns its id and its live key (shown once).</summary>
    public async Task<(string Id, string LiveKey)> CreateMerchantAsync(CancellationToken ct)
    {
        using var admin = Client(silos[0], AdminKey);
        var (status, merchant) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/merchants", """{"name":"Live shop"}""", ct);
        Assert.True(status == 201, $"POST /v1/merchants answered {status}: {merchant}");
        var live = merchant.GetProperty("api_keys").EnumerateArray().Single(k => k.Str("mode") == "live").Str("key");
        Assert.StartsWith("cp_live_", live, StringComparison.Ordinal);
        return (merchant.Str("id"), live);
    }

    /// <summary>A client of <paramref name="silo"/> that authenticates with <paramref name="key"/>.</summary>
    public static HttpClient Client(SiloProcess silo, string? key = null)
    {
        var client = new HttpClient { BaseAddress = silo.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return client;
    }

    /// <summary>
    /// Waits on the invoice's public event stream (<c>GET /v1/invoices/{id}/events</c>, through <paramref name="client"/>'s
    /// silo) and reads the whole invoice at the start and after each event, until <paramref name="until"/> holds; on timeout
    /// fails with the last invoice JSON and every silo's output.
    /// </summary>
    public async Task<JsonElement> WaitForInvoiceAsync(
        HttpClient client, string id, Func<JsonElement, bool> until, string expectation, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var last = "(no answer yet)";
        try
        {
            using var events = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/invoices/{id}/events"), HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            Assert.True(events.IsSuccessStatusCode, $"GET /v1/invoices/{id}/events answered {(int)events.StatusCode}.\n{Output}");
            using var stream = new StreamReader(await events.Content.ReadAsStreamAsync(deadline.Token));
            while (true)
            {
                var (status, invoice) = await client.SendJsonAsync(HttpMethod.Get, $"/v1/invoices/{id}", null, deadline.Token);
                if (status == 200 && until(invoice))
                {
                    return invoice;
                }

                last = $"{status} {invoice}";
                if (!await NextEventAsync(stream, deadline.Token))
                {
                    // The stream ends at a final status: one more read decides.
                    (status, invoice) = await client.SendJsonAsync(HttpMethod.Get, $"/v1/invoices/{id}", null, deadline.Token);
                    Assert.True(status == 200 && until(invoice), $"Invoice {id} reached a final status without being {expectation}.\nLast GET: {status} {invoice}\n{Output}");
                    return invoice;
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            Assert.Fail($"Invoice {id} was not {expectation} within {timeout.TotalSeconds:0} s.\nLast GET: {last}\n{Output}");
            throw;
        }

        // Reads up to the end of the next event (its blank line); false when the stream ended.
        static async Task<bool> NextEventAsync(StreamReader stream, CancellationToken ct)
        {
            var data = false;
            while (await stream.ReadLineAsync(ct) is { } line)
            {
                data |= line.StartsWith("data:", StringComparison.Ordinal);
                if (line.Length == 0 && data)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>The merchant's balance of an asset as <c>GET /v1/balances</c> answers it; zeros when it has none.</summary>
    public static async Task<(decimal Available, decimal Pending)> BalanceAsync(HttpClient merchant, string asset, CancellationToken ct)
    {
        var (status, body) = await merchant.SendJsonAsync(HttpMethod.Get, "/v1/balances", null, ct);
        Assert.True(status == 200, $"GET /v1/balances answered {status}: {body}");
        return body.GetProperty("balances").TryGetProperty(asset, out var balance)
            ? (decimal.Parse(balance.Str("available"), CultureInfo.InvariantCulture), decimal.Parse(balance.Str("pending"), CultureInfo.InvariantCulture))
            : (0m, 0m);
    }

    /// <summary>
    /// Reads the balance until it is <paramref name="expected"/>: an invoice turns confirmed in its own turn and credits the
    /// balance by a message delivered after that commit, so the two become visible one after the other.
    /// </summary>
    public async Task WaitForBalanceAsync(HttpClient merchant, string asset, (decimal Available, decimal Pending) expected, TimeSpan timeout, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var balance = await BalanceAsync(merchant, asset, ct);
            if (balance == expected)
            {
                return;
            }

            if (waited.Elapsed > timeout)
            {
                Assert.Fail($"The {asset} balance was {balance}, not {expected}, after {timeout.TotalSeconds:0} s.\n{Output}");
            }

            await Task.Delay(200, ct);
        }
    }

    /// <summary>
    /// The environment of a live ltc network on a litecoind -regtest: its node, the operator's account key, 1 s polls and
    /// <paramref name="confirmations"/>; the watchers start at the node's current tip, so the first block a test mines
    /// is read whenever the first poll runs.
    /// </summary>
    public static async Task<Dictionary<string, string>> LitecoinChainsAsync(TestSupport.Litecoin.LitecoinRegtestNode node, string accountKey, int confirmations, CancellationToken ct)
    {
        var (user, password) = node.RpcLogin;
        return new Dictionary<string, string>
        {
            ["Chains__Networks__ltc__Chain"] = "regtest",
            ["Chains__Networks__ltc__RpcUrl"] = node.Rpc.Endpoint.ToString(),
            ["Chains__Networks__ltc__RpcUser"] = user,
            ["Chains__Networks__ltc__RpcPassword"] = password,
            ["Chains__Networks__ltc__AccountKey"] = accountKey,
            ["Chains__Networks__ltc__Confirmations"] = confirmations.ToString(CultureInfo.InvariantCulture),
            ["Chains__Networks__ltc__PollInterval"] = "00:00:01",
            ["Chains__Networks__ltc__StartHeight"] = (await node.Rpc.GetBlockCountAsync(ct)).ToString(CultureInfo.InvariantCulture),
        };
    }

    /// <summary>
    /// The environment of a live eth network on the ganache dev node: its endpoint and chain id, the operator's account
    /// key, the ERC-20 "USDT" at <paramref name="usdt"/>, 1 s polls and <paramref name="confirmations"/>, starting at the tip.
    /// </summary>
    public static async Task<Dictionary<string, string>> EthereumChainsAsync(CryptoPay.Chains.Rpc.EvmRpcClient rpc, string accountKey, string usdt, int confirmations, CancellationToken ct) =>
        new()
        {
            ["Chains__Networks__eth__RpcUrl"] = rpc.Endpoint.ToString(),
            ["Chains__Networks__eth__AccountKey"] = accountKey,
            ["Chains__Networks__eth__Tokens__USDT"] = usdt,
            ["Chains__Networks__eth__ChainId"] = CryptoPay.TestSupport.Evm.EvmDevNodeFixture.ChainId.ToString(CultureInfo.InvariantCulture),
            ["Chains__Networks__eth__Confirmations"] = confirmations.ToString(CultureInfo.InvariantCulture),
            ["Chains__Networks__eth__PollInterval"] = "00:00:01",
            ["Chains__Networks__eth__StartHeight"] = (await rpc.GetBlockNumberAsync(ct)).ToString(CultureInfo.InvariantCulture),
        };

    /// <summary>
    /// Reads the settlement through <paramref name="admin"/> (an admin-key client) until it is in <paramref name="status"/>;
    /// with <paramref name="tolerateErrors"/>, a 5xx (a dead silo not yet declared dead holds the batch) is asked again.
    /// </summary>
    public async Task<JsonElement> WaitForSettlementAsync(HttpClient admin, string id, string status, TimeSpan timeout, CancellationToken ct, bool tolerateErrors = false)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var (code, settlement) = await admin.SendJsonAsync(HttpMethod.Get, $"/v1/admin/settlements/{id}", null, ct);
            var retry = tolerateErrors && code >= 500;
            if (!retry)
            {
                Assert.True(code == 200, $"GET /v1/admin/settlements/{id} answered {code}: {settlement}\n{Output}");
                if (settlement.Str("status") == status)
                {
                    return settlement;
                }
            }

            if (waited.Elapsed > timeout)
            {
                Assert.Fail($"Settlement {id} is not {status} after {timeout.TotalSeconds:0} s: {code} {settlement}\n{Output}");
            }

            await Task.Delay(250, ct);
        }
    }

    /// <summary>The first of the silos to exit (a fault point killed it); fails when none does within <paramref name="timeout"/>.</summary>
    public async Task<SiloProcess> FirstExitAsync(TimeSpan timeout, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var exits = silos.Select(async silo =>
        {
            try
            {
                await silo.WaitForExitAsync(timeout, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested && !ct.IsCancellationRequested)
            {
                // another silo exited first
            }

            return silo;
        }).ToList();
        var first = await await Task.WhenAny(exits);
        await stop.CancelAsync();
        return first;
    }

    /// <summary>What a deposit of <paramref name="gross"/> smallest units credits after the operator's fee.</summary>
    public static BigInteger NetOf(BigInteger gross) => gross - (gross * FeeBasisPoints / 10_000);

    /// <summary>The ledger as the silos wrote it, read straight from the shared database.</summary>
    public async Task<LedgerSnapshot> LedgerAsync(CancellationToken ct)
    {
        await using var dataSource = NpgsqlDataSource.Create(database);
        return await new PostgresLedgerQuery(dataSource).SnapshotAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (silos.Exists(s => !s.HasExited))
            {
                // Balances match their journals and no output is credited twice, whatever the test did to the silos.
                LedgerInvariants.Check(await LedgerAsync(CancellationToken.None));
            }
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }
}

internal static class GatewayJson
{
    public static async Task<(int Status, JsonElement Body)> SendJsonAsync(this HttpClient client, HttpMethod method, string path, string? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        JsonElement json;
        try
        {
            json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            json = JsonSerializer.SerializeToElement(text);
        }

        return ((int)response.StatusCode, json);
    }

    public static string Str(this JsonElement element, string name) => element.GetProperty(name).ToString();

    public static JsonElement Method(this JsonElement invoice, string method) =>
        invoice.GetProperty("payment_methods").EnumerateArray().Single(m => m.Str("method") == method);
}
