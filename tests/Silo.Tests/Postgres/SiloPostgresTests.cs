using System.Globalization;
using System.Text.Json;
using CryptoPay.ProcessSupport;
using CryptoPay.Silo.Tests.Hosting;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.Silo.Tests.Postgres;

/// <summary>Silo processes over a real PostgreSQL: Orleans membership as operators see it, graceful SIGTERM, readiness following the database.</summary>
[Collection("postgres")]
public sealed class SiloPostgresTests(PostgresFixture postgres)
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Silos_are_listed_from_Orleans_membership_active_with_their_grain_counts()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        var database = await postgres.CreateDatabaseAsync(ct: ct);
        var starting = new[]
        {
            SiloExecutable.StartAsync(SiloExecutable.Environment(database), ct),
            SiloExecutable.StartAsync(SiloExecutable.Environment(database), ct),
        };
        await using var first = await starting[0];
        await using var second = await starting[1];
        using var firstOperator = SiloExecutable.Operator(first);
        using var secondOperator = SiloExecutable.Operator(second);

        var firstId = await SelfIdAsync(firstOperator, ct);
        var secondId = await SelfIdAsync(secondOperator, ct);
        var members = await firstOperator.PollJsonAsync(
            "/v1/cluster/silos",
            (status, body) => status == 200 && body.GetProperty("silos").EnumerateArray().Count(s => s.GetProperty("status").GetString() == "active") == 2,
            TimeSpan.FromSeconds(30),
            ct);

        var listed = members.GetProperty("silos").EnumerateArray().ToDictionary(s => s.GetProperty("silo_id").GetString()!);
        Assert.Equal(new[] { firstId, secondId }.Order(StringComparer.Ordinal), listed.Keys.Order(StringComparer.Ordinal));
        Assert.True(listed[firstId].GetProperty("is_self").GetBoolean());
        Assert.False(listed[secondId].GetProperty("is_self").GetBoolean());
        Assert.All(listed.Values, s => Assert.True(s.GetProperty("is_alive").GetBoolean(), s.ToString()));
        Assert.All(listed.Values, s => Assert.True(s.GetProperty("activations").GetInt32() >= 0, s.ToString()));
        Assert.Equal(listed.Values.Sum(s => s.GetProperty("activations").GetInt32()), members.GetProperty("activations").GetInt32());
        // Two reminders in a fresh cluster: the sweepers' (WebhookLeaseSweeperGrain, InvoiceWakeSweeperGrain), started by every silo.
        Assert.Equal(2, members.GetProperty("reminders").GetInt32());
        Assert.Equal(3, await OrleansStatusInTableAsync(database, firstId, ct));
        Assert.Equal(3, await OrleansStatusInTableAsync(database, secondId, ct));
    }

    [Fact]
    public async Task A_killed_silo_is_listed_dead_and_an_operator_command_is_never_listed()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        var database = await postgres.CreateDatabaseAsync(ct: ct);
        var starting = new[]
        {
            SiloExecutable.StartAsync(SiloExecutable.Environment(database), ct),
            SiloExecutable.StartAsync(SiloExecutable.Environment(database), ct),
        };
        await using var survivor = await starting[0];
        await using var victim = await starting[1];
        using var survivorOperator = SiloExecutable.Operator(survivor);
        using var victimOperator = SiloExecutable.Operator(victim);
        var victimId = await SelfIdAsync(victimOperator, ct);
        await survivorOperator.PollJsonAsync("/v1/cluster/silos", (status, body) => status == 200 && ActiveCount(body) == 2, TimeSpan.FromSeconds(30), ct);

        await using (var command = SiloProcess.Launch(SiloExecutable.Path, ["merchants", "create", "--name", "Ops"], SiloExecutable.Environment(database)))
        {
            Assert.Equal(0, await command.WaitForExitAsync(SiloExecutable.ExitTimeout, ct));
        }

        victim.Kill();
        var members = await survivorOperator.PollJsonAsync(
            "/v1/cluster/silos",
            (status, body) => status == 200 && body.GetProperty("silos").EnumerateArray().Any(s => s.GetProperty("silo_id").GetString() == victimId && s.GetProperty("status").GetString() == "dead"),
            TimeSpan.FromSeconds(30),
            ct);

        var listed = members.GetProperty("silos").EnumerateArray().ToList();
        Assert.Equal(2, listed.Count);
        var dead = Assert.Single(listed, s => s.GetProperty("silo_id").GetString() == victimId);
        Assert.False(dead.GetProperty("is_alive").GetBoolean());
        Assert.Equal(JsonValueKind.Null, dead.GetProperty("activations").ValueKind);
        Assert.Equal(1, ActiveCount(members));
        Assert.Equal(6, await OrleansStatusInTableAsync(database, victimId, ct));
    }

    [Fact]
    public async Task Configured_roles_replace_the_default_roles_and_readiness_shows_them()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        var database = await postgres.CreateDatabaseAsync(ct: ct);
        var environment = SiloExecutable.Environment(database);
        environment["Silo__Roles__0"] = "api";
        environment["Silo__Roles__1"] = "reminders";
        await using var silo = await SiloExecutable.StartAsync(environment, ct);

        var (status, ready) = await silo.Http.GetJsonAsync("/health/ready", ct);
        Assert.Equal(200, status);
        Assert.Contains("on the postgres store (roles api,reminders)", ready.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sigterm_stops_the_silo_gracefully_and_marks_it_dead_in_the_membership()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        var database = await postgres.CreateDatabaseAsync(ct: ct);
        await using var silo = await SiloExecutable.StartAsync(SiloExecutable.Environment(database), ct);
        using var operatorClient = SiloExecutable.Operator(silo);
        var orleansId = await SelfIdAsync(operatorClient, ct);
        Assert.Equal(3, await OrleansStatusInTableAsync(database, orleansId, ct));

        silo.Terminate();
        var exitCode = await silo.WaitForExitAsync(SiloExecutable.ExitTimeout, ct);

        Assert.True(exitCode == 0, $"exit code {exitCode} after SIGTERM\n{silo.Output}");
        Assert.Equal(6, await OrleansStatusInTableAsync(database, orleansId, ct));
    }

    [Fact]
    public async Task Readiness_is_unavailable_while_the_database_is_down_and_recovers_after()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        var database = await postgres.CreateDatabaseAsync(ct: ct);
        await using var silo = await SiloExecutable.StartAsync(SiloExecutable.Environment(database), ct);

        await postgres.Server.StopAsync(immediate: false, ct);
        try
        {
            var down = await silo.Http.PollJsonAsync("/health/ready", (status, _) => status == 503, TimeSpan.FromSeconds(20), ct);
            Assert.Equal("unavailable", down.GetProperty("status").GetString());
            Assert.Contains("postgres store did not answer", down.GetProperty("reason").GetString(), StringComparison.Ordinal);

            var (liveStatus, _) = await silo.Http.GetJsonAsync("/health/live", ct);
            Assert.Equal(200, liveStatus);
        }
        finally
        {
            await postgres.Server.StartAgainAsync(CancellationToken.None);
        }

        var up = await silo.Http.PollJsonAsync("/health/ready", (status, _) => status == 200, TimeSpan.FromSeconds(30), ct);
        Assert.Equal("ready", up.GetProperty("status").GetString());
    }

    private static int ActiveCount(JsonElement members) =>
        members.GetProperty("silos").EnumerateArray().Count(s => s.GetProperty("status").GetString() == "active");

    private static async Task<string> SelfIdAsync(HttpClient operatorClient, CancellationToken ct)
    {
        var (status, members) = await operatorClient.GetJsonAsync("/v1/cluster/silos", ct);
        Assert.True(status == 200, $"{status} {members}");
        return members.GetProperty("self").GetString()!;
    }

    /// <summary>The Orleans.Runtime.SiloStatus the membership table holds for a silo id (<c>address:port@generation</c>).</summary>
    private static async Task<int?> OrleansStatusInTableAsync(string database, string siloId, CancellationToken ct)
    {
        var at = siloId.LastIndexOf('@');
        var colon = siloId.LastIndexOf(':', at);
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT status FROM orleans_membership WHERE address = $1 AND port = $2 AND generation = $3", connection);
        command.Parameters.Add(new() { Value = siloId[..colon] });
        command.Parameters.Add(new() { Value = int.Parse(siloId[(colon + 1)..at], CultureInfo.InvariantCulture) });
        command.Parameters.Add(new() { Value = int.Parse(siloId[(at + 1)..], CultureInfo.InvariantCulture) });
        return (int?)await command.ExecuteScalarAsync(ct);
    }
}
