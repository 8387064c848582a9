using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using CryptoPay.ProcessSupport;
using CryptoPay.Silo.Tests.Hosting;
using CryptoPay.TestSupport.Postgres;
using Npgsql;

namespace CryptoPay.Silo.Tests.Operator;

/// <summary>
/// <c>merchants create</c> as an operator runs it: an Orleans client of the cluster on PostgreSQL, never a silo; without
/// a database or a running silo it stops with one line saying what to do.
/// </summary>
[Collection("postgres")]
public sealed partial class MerchantsCommandTests(PostgresFixture postgres)
{
    private const string AdminKey = "merchants-command-admin-key-0123";
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(150);

    [Fact]
    public async Task Without_a_database_it_refuses_and_says_how_to_configure_one()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);

        await using var command = Launch(SiloExecutable.Environment());
        var exitCode = await command.WaitForExitAsync(SiloExecutable.ExitTimeout, timeout.Token);

        Assert.True(exitCode == 2, $"exit code {exitCode}\n{command.Output}");
        Assert.Contains("merchants create: no database is configured", command.ErrorLines[0], StringComparison.Ordinal);
        Assert.DoesNotContain(command.OutputLines, l => l.Trim().Length > 0);
        AssertNoStackTrace(command);
    }

    [Fact]
    public async Task Creates_a_merchant_through_a_running_silo_without_joining_the_cluster_and_refuses_once_no_silo_runs()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        var database = await postgres.CreateDatabaseAsync(ct: ct);
        var siloEnvironment = SiloExecutable.Environment(database);
        siloEnvironment["Admin__ApiKey"] = AdminKey;
        await using var silo = await SiloExecutable.StartAsync(siloEnvironment, ct);

        await using var command = Launch(SiloExecutable.Environment(database));
        var exitCode = await command.WaitForExitAsync(SiloExecutable.ExitTimeout, ct);

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{command.Output}\n{silo.Output}");
        var printed = command.OutputLines.Where(l => l.Contains(": ", StringComparison.Ordinal)).ToDictionary(l => l[..l.IndexOf(':', StringComparison.Ordinal)], l => l[(l.IndexOf(':', StringComparison.Ordinal) + 2)..]);
        Assert.StartsWith("cp_live_", printed["live_key"], StringComparison.Ordinal);
        Assert.StartsWith("cp_test_", printed["test_key"], StringComparison.Ordinal);
        silo.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        var (status, merchant) = await silo.Http.GetJsonAsync($"/v1/merchants/{printed["merchant_id"]}", ct);
        Assert.True(status == 200, $"{status} {merchant}");
        Assert.Equal("Command shop", merchant.GetProperty("name").GetString());
        Assert.Equal(["live", "test"], merchant.GetProperty("api_keys").EnumerateArray().Select(k => k.GetProperty("mode").GetString()!).Order(StringComparer.Ordinal));
        Assert.Equal(1, await OrleansMembersAsync(database, ct));

        // A merchant coming from one of the profiled APIs gets keys in its format, usable at once under its prefix.
        await using var pepay = Launch(SiloExecutable.Environment(database), "--key-format", "pepay");
        var pepayExit = await pepay.WaitForExitAsync(SiloExecutable.ExitTimeout, ct);
        Assert.True(pepayExit == 0, $"exit code {pepayExit}\n{pepay.Output}");
        var pepayKey = pepay.OutputLines.Single(l => l.StartsWith("test_key: ", StringComparison.Ordinal))["test_key: ".Length..];
        Assert.StartsWith("pp_test_", pepayKey, StringComparison.Ordinal);
        using (var totals = new HttpRequestMessage(HttpMethod.Get, "/compat/pepay/api/v1/invoices/totals"))
        {
            totals.Headers.Authorization = new AuthenticationHeaderValue("Bearer", pepayKey);
            using var answer = await silo.Http.SendAsync(totals, ct);
            Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
        }

        silo.Terminate();
        Assert.Equal(0, await silo.WaitForExitAsync(SiloExecutable.ExitTimeout, ct));
        await using var refused = Launch(SiloExecutable.Environment(database));
        var stoppedExitCode = await refused.WaitForExitAsync(SiloExecutable.ExitTimeout, ct);

        Assert.True(stoppedExitCode == 2, $"exit code {stoppedExitCode}\n{refused.Output}");
        var line = Assert.Single(refused.ErrorLines, l => l.Trim().Length > 0);
        Assert.True(line.StartsWith("merchants create: no silo of cluster 'cryptopay' is reachable through ConnectionStrings:Postgres (none is running); start a silo", StringComparison.Ordinal), line);
        AssertNoStackTrace(refused);
    }

    [Fact]
    public async Task On_a_database_no_silo_ever_ran_on_it_stops_with_one_line_asking_for_a_silo()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        var database = await postgres.CreateDatabaseAsync(ct: ct);

        await using var command = Launch(SiloExecutable.Environment(database));
        var exitCode = await command.WaitForExitAsync(SiloExecutable.ExitTimeout, ct);

        Assert.True(exitCode == 2, $"exit code {exitCode}\n{command.Output}");
        var line = Assert.Single(command.ErrorLines, l => l.Trim().Length > 0);
        Assert.True(line.StartsWith("merchants create: no silo of cluster 'cryptopay' is reachable through ConnectionStrings:Postgres (no silo has run on this database yet); start a silo", StringComparison.Ordinal), line);
        Assert.DoesNotContain(command.OutputLines, l => l.Trim().Length > 0);
        AssertNoStackTrace(command);
    }

    private static SiloProcess Launch(Dictionary<string, string?> environment, params string[] options) =>
        SiloProcess.Launch(SiloExecutable.Path, ["merchants", "create", "--name", "Command shop", .. options], environment);

    /// <summary>Silos in the Orleans membership of the database, whatever their status: the command must not be one.</summary>
    private static async Task<long> OrleansMembersAsync(string database, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync(ct);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM orleans_membership", connection);
        return (long)(await count.ExecuteScalarAsync(ct))!;
    }

    private static void AssertNoStackTrace(SiloProcess command)
    {
        Assert.DoesNotContain(command.OutputLines.Concat(command.ErrorLines), l => StackFrame().IsMatch(l));
        Assert.DoesNotContain("Unhandled exception", command.Output, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\s+at \S")]
    private static partial Regex StackFrame();
}
