using CryptoPay.ProcessSupport;
using CryptoPay.Silo.Tests.Hosting;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.Silo.Tests.Postgres;

/// <summary>Silo processes over a real PostgreSQL: membership, graceful SIGTERM, readiness following the database.</summary>
[Collection("postgres")]
public sealed class SiloPostgresTests(PostgresFixture postgres)
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Silos_register_in_the_membership_and_see_each_other_alive()
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

        var firstId = await SelfIdAsync(first, ct);
        var secondId = await SelfIdAsync(second, ct);
        var members = await first.Http.PollJsonAsync(
            "/v1/cluster/silos",
            (status, body) => status == 200 && body.GetProperty("silos").EnumerateArray().Count(s => s.GetProperty("is_alive").GetBoolean()) == 2,
            TimeSpan.FromSeconds(15),
            ct);

        var listed = members.GetProperty("silos").EnumerateArray().ToDictionary(s => s.GetProperty("silo_id").GetString()!);
        Assert.Equal(new[] { firstId, secondId }.Order(StringComparer.Ordinal), listed.Keys.Order(StringComparer.Ordinal));
        Assert.True(listed[firstId].GetProperty("is_self").GetBoolean());
        Assert.False(listed[secondId].GetProperty("is_self").GetBoolean());
        Assert.Equal(second.BaseAddress!.ToString().TrimEnd('/'), listed[secondId].GetProperty("address").GetString());
        Assert.Equal("active", await StatusInTableAsync(database, firstId, ct));
        Assert.Equal("active", await StatusInTableAsync(database, secondId, ct));
    }

    [Fact]
    public async Task Sigterm_stops_the_silo_gracefully_and_marks_it_stopped()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        var database = await postgres.CreateDatabaseAsync(ct: ct);
        await using var silo = await SiloExecutable.StartAsync(SiloExecutable.Environment(database), ct);
        var siloId = await SelfIdAsync(silo, ct);
        Assert.Equal("active", await StatusInTableAsync(database, siloId, ct));

        silo.Terminate();
        var exitCode = await silo.WaitForExitAsync(SiloExecutable.ExitTimeout, ct);

        Assert.True(exitCode == 0, $"exit code {exitCode} after SIGTERM\n{silo.Output}");
        Assert.Equal("stopped", await StatusInTableAsync(database, siloId, ct));
        Assert.Contains(silo.OutputLines, l => l.Contains($"Silo {siloId} stopped gracefully", StringComparison.Ordinal));
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

    private static async Task<string> SelfIdAsync(SiloProcess silo, CancellationToken ct)
    {
        var (status, members) = await silo.Http.GetJsonAsync("/v1/cluster/silos", ct);
        Assert.Equal(200, status);
        return members.GetProperty("self").GetString()!;
    }

    private static async Task<string?> StatusInTableAsync(string database, string siloId, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT status FROM cp_silos WHERE silo_id = $1", connection);
        command.Parameters.Add(new() { Value = siloId });
        return (string?)await command.ExecuteScalarAsync(ct);
    }
}
