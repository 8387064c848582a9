using CryptoPay.TestSupport.Postgres;
using Xunit.Abstractions;

namespace CryptoPay.Integration.Tests.Cluster;

/// <summary>
/// Two real CryptoPay.Silo processes (Orleans over ADO.NET clustering, one PostgreSQL) under concurrent invoice
/// creation, each request with an Idempotency-Key of its own; one silo is killed with SIGKILL mid-load. Afterwards every
/// acknowledged invoice exists once, every key maps to one invoice (a retry on the survivor answers the same id),
/// the survivor kept answering (architecture guarantees 3 and 5), expiries and sandbox confirmations due after the kill
/// happen on the survivor, and the ledger invariants hold (<see cref="FaultDrill"/>).
/// </summary>
[Collection("postgres")]
public sealed class SiloCrashTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Acknowledged_invoices_survive_kill_9_of_a_silo_and_each_Idempotency_Key_maps_to_one_invoice()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var ct = timeout.Token;
        await using var drill = await FaultDrill.StartAsync(postgres, output, ct);
        var (survivor, victim) = (drill.Cluster.Silos[0], drill.Cluster.Silos[1]);
        await drill.PrepareAsync(survivor, ct);

        var load = drill.StartLoad([survivor, victim]);
        await load.WaitForAnswersAsync(drill.Now, 40, TimeSpan.FromSeconds(60), ct);
        var killedAt = drill.Now;
        victim.Kill();
        load.Remove(victim);
        drill.Log("killed the second silo (SIGKILL)");
        await load.WaitUntilHealthyAsync(killedAt, TimeSpan.FromSeconds(30), ct);
        await load.StopAsync();

        Assert.True(drill.Attempts.Any(a => a.Id is not null && a.SentAt < killedAt && a.Key.StartsWith('c')), "no invoice was acknowledged before the kill, so the kill proved nothing");
        Assert.True(drill.Attempts.Any(a => a.Id is not null && a.SentAt >= killedAt), $"the survivor acknowledged no invoice after the kill\n{survivor.Output}");
        drill.Recovery("kill -9", killedAt);
        drill.AssertEveryAnswerWasSuccessOrRetryable();
        await drill.VerifyKeysAsync(survivor, ct);
        await drill.VerifyTimeDrivenWorkAndLedgerAsync(survivor, TimeSpan.FromSeconds(75), ct);
    }
}
