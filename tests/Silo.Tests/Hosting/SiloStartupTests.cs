using System.Text.RegularExpressions;
using CryptoPay.ProcessSupport;

namespace CryptoPay.Silo.Tests.Hosting;

/// <summary>The silo executable on the in-memory store, and start-up refused for bad settings.</summary>
public sealed partial class SiloStartupTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Starts_on_the_memory_store_ready_and_serving_operator_endpoints()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        await using var silo = await SiloExecutable.StartAsync(SiloExecutable.Environment(), ct);

        var (readyStatus, ready) = await silo.Http.GetJsonAsync("/health/ready", ct);
        Assert.Equal(200, readyStatus);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        Assert.Contains("memory store", ready.GetProperty("reason").GetString(), StringComparison.Ordinal);

        var (liveStatus, live) = await silo.Http.GetJsonAsync("/health/live", ct);
        Assert.Equal(200, liveStatus);
        Assert.Equal("alive", live.GetProperty("status").GetString());

        var (anonymousStatus, anonymous) = await silo.Http.GetJsonAsync("/v1/cluster/silos", ct);
        Assert.Equal((401, "UNAUTHORIZED"), (anonymousStatus, anonymous.GetProperty("code").GetString()));
        using var operatorClient = SiloExecutable.Operator(silo);
        var (_, members) = await operatorClient.GetJsonAsync("/v1/cluster/silos", ct);
        var self = Assert.Single(members.GetProperty("silos").EnumerateArray());
        Assert.Equal(members.GetProperty("self").GetString(), self.GetProperty("silo_id").GetString());
        Assert.True(self.GetProperty("is_self").GetBoolean());
        Assert.True(self.GetProperty("is_alive").GetBoolean());
        Assert.Equal("active", self.GetProperty("status").GetString());
        Assert.StartsWith("127.0.0.1:", self.GetProperty("address").GetString(), StringComparison.Ordinal);
        Assert.True(self.GetProperty("activations").GetInt32() >= 0, self.ToString());
        Assert.Equal(self.GetProperty("activations").GetInt32(), members.GetProperty("activations").GetInt32());
        // The reminders of a fresh silo: the sweepers' (WebhookLeaseSweeperGrain, InvoiceWakeSweeperGrain).
        Assert.Equal(2, members.GetProperty("reminders").GetInt32());
    }

    [Fact]
    public async Task Without_an_admin_key_the_embedded_default_makes_one_prints_it_once_and_warns_of_the_unset_public_url()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        await using var silo = await SiloExecutable.StartAsync(new Dictionary<string, string?> { ["ConnectionStrings__Postgres"] = null, ["Admin__ApiKey"] = null }, ct);

        var printed = silo.OutputLines.Select(l => AdminKeyLine().Match(l)).Where(m => m.Success).ToList();
        var key = Assert.Single(printed).Groups[1].Value;
        Assert.Contains(silo.OutputLines, l => l.Contains("Api__PublicBaseUrl is not set", StringComparison.Ordinal));

        using var admin = new HttpClient { BaseAddress = silo.BaseAddress };
        admin.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using var created = await admin.PostAsync("/v1/merchants", new StringContent("""{"name":"Shop"}""", System.Text.Encoding.UTF8, "application/json"), ct);
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        using var refused = await silo.Http.PostAsync("/v1/merchants", new StringContent("""{"name":"Shop"}""", System.Text.Encoding.UTF8, "application/json"), ct);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [GeneratedRegex("operator admin key of this run is (cp_admin_[0-9a-f]{32}) ")]
    private static partial Regex AdminKeyLine();

    [Fact]
    public async Task Cluster_endpoints_refuse_a_wrong_key_and_the_dashboard_takes_the_same_one()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        await using var silo = await SiloExecutable.StartAsync(SiloExecutable.Environment(), ct);
        using var wrong = new HttpClient { BaseAddress = silo.BaseAddress };
        wrong.DefaultRequestHeaders.Add("x-api-key", "not-the-admin-key");
        using var operatorClient = SiloExecutable.Operator(silo);

        using var refused = await wrong.GetAsync("/v1/cluster/silos", ct);
        using var dashboard = await operatorClient.GetAsync("/dashboard/version", ct);

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Basic", Assert.Single(refused.Headers.WwwAuthenticate).Scheme);
        Assert.True(dashboard.IsSuccessStatusCode, $"dashboard answered {(int)dashboard.StatusCode} to the admin key");
    }

    [Theory]
    [InlineData("Silo__Roles__0", "bogus", "unknown silo role 'bogus' in Silo:Roles")]
    [InlineData("ConnectionStrings__Postgres", "this is not a connection string", "ConnectionStrings:Postgres is not a valid PostgreSQL connection string")]
    [InlineData("ConnectionStrings__Postgres", "Database=cryptopay", "ConnectionStrings:Postgres must name a Host")]
    [InlineData("Silo__HeartbeatInterval", "00:00:05", "Silo:HeartbeatInterval was a setting of the retired grain runtime")]
    [InlineData("Ledger__FeeBasisPoints", "20000", "Ledger:FeeBasisPoints must be between 0 and 10000")]
    [InlineData("Orleans__Membership__ProbeTimeout", "soon", "'soon' at 'Orleans:Membership:ProbeTimeout'")]
    [InlineData("ConnectionStrings__Postgres", "Host=127.0.0.1;Port=1;Username=postgres;Timeout=5", "cannot migrate the Orleans schema on ConnectionStrings:Postgres")]
    public async Task Bad_configuration_stops_start_up_with_one_clear_line(string variable, string value, string expected)
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var environment = SiloExecutable.Environment();
        environment[variable] = value;
        await using var silo = SiloProcess.Launch(SiloExecutable.Path, ["--urls", "http://127.0.0.1:0"], environment);

        var exitCode = await silo.WaitForExitAsync(SiloExecutable.ExitTimeout, timeout.Token);

        Assert.True(exitCode != 0, $"exit code 0 for {variable}={value}\n{silo.Output}");
        var line = Assert.Single(silo.ErrorLines, l => l.Trim().Length > 0);
        Assert.StartsWith("CryptoPay.Silo: start-up failed: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain(silo.OutputLines.Concat(silo.ErrorLines), l => StackFrame().IsMatch(l));
        Assert.DoesNotContain("Unhandled exception", silo.Output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\s+at \S")]
    private static partial Regex StackFrame();
}
