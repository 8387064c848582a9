using System.Diagnostics;
using CryptoPay.TestSupport.Postgres;
using Xunit.Abstractions;

namespace CryptoPay.Integration.Tests.Cluster;

/// <summary>
/// Two real silo processes under invoice-creation load while their PostgreSQL stops (fast shutdown: connections cut)
/// and starts again on the same port and data directory. While it is down every request is answered at once with
/// 503 and Retry-After (no 500, no request left hanging); once it is back the silos answer again without a restart,
/// every acknowledged invoice exists once, every key maps to one invoice, expiries and confirmations due during the
/// outage happen, and the ledger invariants hold (<see cref="FaultDrill"/>).
/// </summary>
[Collection("postgres")]
public sealed class PostgresRestartTests(PostgresFixture postgres, ITestOutputHelper output)
{
    /// <summary>An answer slower than this during the outage counts as hanging (the client gives up at 30 s).</summary>
    private static readonly TimeSpan AnswerWithin = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan TestTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Requests_get_503_with_Retry_After_while_PostgreSQL_is_down_and_nothing_is_duplicated_or_lost_after_it_restarts()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        await using var drill = await FaultDrill.StartAsync(postgres, output, ct);
        var silos = drill.Cluster.Silos;
        await drill.PrepareAsync(silos[0], ct);

        var load = drill.StartLoad(silos);
        await load.WaitForAnswersAsync(drill.Now, 40, TimeSpan.FromSeconds(60), ct);
        var stoppedAt = drill.Now;
        await postgres.Server.StopAsync(immediate: false, ct);
        drill.Log("PostgreSQL stopped (fast shutdown)");
        TimeSpan restartedAt;
        try
        {
            // Down until the expiries made before the fault (and the sandbox block after the payments) have fallen due,
            // so their reminders fire while the database is away.
            await load.WaitForAnswersAsync(drill.Now, 50, TimeSpan.FromSeconds(60), ct);
            var untilDue = drill.LastExpiry.AddSeconds(2) - DateTimeOffset.UtcNow;
            if (untilDue > TimeSpan.Zero)
            {
                await Task.Delay(untilDue, ct);
            }
        }
        finally
        {
            await postgres.Server.StartAgainAsync(ct);
            restartedAt = drill.Now;
        }

        drill.Log($"PostgreSQL accepting connections again after an outage of {(restartedAt - stoppedAt).TotalSeconds:0.0} s");
        await load.WaitUntilHealthyAsync(restartedAt, TimeSpan.FromSeconds(30), ct);
        await load.StopAsync();

        var duringOutage = drill.Attempts.Where(a => a.SentAt >= stoppedAt && a.SentAt < restartedAt).ToList();
        Assert.True(duringOutage.Count(a => a.Status == 503 && a.RetryAfter) > 0, "no request was answered 503 with Retry-After while PostgreSQL was down");
        var hanging = duringOutage.Where(a => a.Status == 0 || a.CompletedAt - a.SentAt > AnswerWithin).ToList();
        Assert.True(hanging.Count == 0, $"{hanging.Count} requests sent during the outage were not answered within {AnswerWithin.TotalSeconds:0} s, e.g.\n" +
                                        string.Join('\n', hanging.Take(5)) + $"\n{drill.Cluster.Output}");
        drill.Log($"during the outage: {duringOutage.Count} requests, slowest answer {duringOutage.Max(a => a.CompletedAt - a.SentAt).TotalSeconds:0.00} s");
        drill.Recovery("PostgreSQL started again", restartedAt);
        drill.AssertEveryAnswerWasSuccessOrRetryable();
        await drill.VerifyKeysAsync(silos[0], ct);
        // A reminder tick that failed while the database was down comes again a minute later.
        await drill.VerifyTimeDrivenWorkAndLedgerAsync(silos[1], TimeSpan.FromSeconds(100), ct);
    }
}
