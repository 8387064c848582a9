using System.Diagnostics;
using CryptoPay.Integration.Tests.LiveGateway;
using CryptoPay.ProcessSupport;
using CryptoPay.TestSupport.Postgres;
using Xunit.Abstractions;

namespace CryptoPay.Integration.Tests.Cluster;

/// <summary>
/// Two real silo processes under invoice-creation load; one is suspended with SIGSTOP for 60 s (hung, its sockets open)
/// and then continued. Membership must declare it dead (docs/ORLEANS.md: within 20 s) and the survivor answer; once
/// continued, the hung silo learns it was declared dead and ends itself, having corrupted nothing: every acknowledged
/// invoice exists once, every key maps to one invoice, expiries and confirmations due while it hung happened, and the
/// ledger invariants hold (<see cref="FaultDrill"/>).
/// </summary>
[Collection("postgres")]
public sealed class SiloHangTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DeathDeclaredWithin = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan TestTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task A_silo_hung_for_60_s_under_load_is_declared_dead_the_survivor_answers_and_nothing_is_duplicated_or_lost()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        await using var drill = await FaultDrill.StartAsync(postgres, output, ct);
        var (survivor, victim) = (drill.Cluster.Silos[0], drill.Cluster.Silos[1]);
        var victimId = await SiloIdAsync(victim, ct);
        await drill.PrepareAsync(survivor, ct);

        var load = drill.StartLoad([survivor, victim]);
        await load.WaitForAnswersAsync(drill.Now, 40, TimeSpan.FromSeconds(60), ct);
        var stoppedAt = drill.Now;
        var hung = Stopwatch.StartNew();
        var suspension = victim.Suspend();
        try
        {
            load.Remove(victim);
            drill.Log("suspended the second silo (SIGSTOP)");
            var declaredDead = await WaitUntilDeclaredDeadAsync(survivor, victimId, ct);
            drill.Log($"membership declared the hung silo dead {declaredDead.TotalSeconds:0.0} s after SIGSTOP");
            Assert.True(declaredDead <= DeathDeclaredWithin, $"the hung silo was declared dead after {declaredDead.TotalSeconds:0.0} s, not within {DeathDeclaredWithin.TotalSeconds:0} s");
            await load.WaitUntilHealthyAsync(stoppedAt, TimeSpan.FromSeconds(30), ct);
            await load.StopAsync();
            Assert.True(drill.Attempts.Any(a => a.Id is not null && a.SentAt < stoppedAt && a.Key.StartsWith('c')), "no invoice was acknowledged before SIGSTOP");
            Assert.True(drill.Attempts.Any(a => a.Id is not null && a.SentAt >= stoppedAt), $"the survivor acknowledged no invoice while the other silo hung\n{survivor.Output}");
            drill.Recovery("SIGSTOP", stoppedAt);
            // While the other silo still hangs: the survivor alone answers every key.
            await drill.VerifyKeysAsync(survivor, ct);

            // The fault is a hang of this length, not a wait for a condition.
            var rest = Hang - hung.Elapsed;
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest, ct);
            }
        }
        finally
        {
            suspension.Dispose();
        }

        drill.Log($"continued the hung silo (SIGCONT) after {hung.Elapsed.TotalSeconds:0.0} s");
        var exitCode = await victim.WaitForExitAsync(TimeSpan.FromSeconds(60), ct);
        drill.Log($"the continued silo ended itself with exit code {exitCode}, {hung.Elapsed.TotalSeconds - Hang.TotalSeconds:0.0} s after SIGCONT");

        drill.AssertEveryAnswerWasSuccessOrRetryable();
        // Whatever the continued silo did before it ended, every key still answers its one invoice.
        await drill.VerifyKeysAsync(survivor, ct);
        await drill.VerifyTimeDrivenWorkAndLedgerAsync(survivor, TimeSpan.FromSeconds(75), ct);
    }

    private static async Task<string> SiloIdAsync(SiloProcess silo, CancellationToken ct)
    {
        using var admin = GatewayCluster.Client(silo, GatewayCluster.AdminKey);
        var (status, body) = await admin.SendJsonAsync(HttpMethod.Get, "/v1/cluster/silos", null, ct);
        Assert.True(status == 200, $"GET /v1/cluster/silos: {status} {body}");
        return body.Str("self");
    }

    /// <summary>Polls the survivor's membership view until <paramref name="siloId"/> is dead; returns how long that took.</summary>
    private static async Task<TimeSpan> WaitUntilDeclaredDeadAsync(SiloProcess survivor, string siloId, CancellationToken ct)
    {
        using var admin = GatewayCluster.Client(survivor, GatewayCluster.AdminKey);
        var waited = Stopwatch.StartNew();
        var last = "";
        while (waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            var (status, body) = await admin.SendJsonAsync(HttpMethod.Get, "/v1/cluster/silos", null, ct);
            if (status == 200 && body.GetProperty("silos").EnumerateArray().Any(s => s.Str("silo_id") == siloId && s.Str("status") == "dead"))
            {
                return waited.Elapsed;
            }

            last = $"{status} {body}";
            await Task.Delay(100, ct);
        }

        Assert.Fail($"the hung silo {siloId} was not declared dead within 60 s; last: {last}\n{survivor.Output}");
        throw new UnreachableException();
    }
}
