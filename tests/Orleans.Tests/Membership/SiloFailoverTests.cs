using System.Diagnostics;
using CryptoPay.OrleansProcessHost;
using CryptoPay.Silo.Hosting;
using CryptoPay.TestSupport.Postgres;
using Xunit.Abstractions;

namespace CryptoPay.OrleansTests.Membership;

/// <summary>Two silos joined through ADO.NET clustering on our schema; one is killed, the other takes over.</summary>
[Collection("postgres")]
public sealed class SiloFailoverTests(PostgresFixture postgres, ITestOutputHelper output)
{

    [Fact]
    public async Task A_killed_silos_grains_answer_on_the_survivor_within_10_s()
    {
        await using var cluster = await OrleansTestCluster.StartOnPostgresAsync(await postgres.CreateDatabaseAsync(), silos: 2);
        var (survivor, victim) = (cluster.Silos[0], cluster.Silos[1]);
        var (counter, before) = await Failover.ActivatedOnAsync(cluster.GrainFactory, "failover", r => r.Silo == victim.SiloAddress.ToString());

        var clock = Stopwatch.StartNew();
        await cluster.KillSiloAsync(victim);
        var after = await Failover.PollAsync(() => counter.ReadAsync(), r => r.Silo == survivor.SiloAddress.ToString(), TimeSpan.FromSeconds(30));
        var answeredIn = clock.Elapsed;

        output.WriteLine($"killed silo's grain answered on the survivor after {answeredIn.TotalSeconds:0.0} s");
        Assert.Equal(before.Total, after.Total);
        Assert.True(answeredIn < TimeSpan.FromSeconds(10), $"took {answeredIn.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task Reminders_fire_on_the_survivor_after_their_owning_silo_is_killed()
    {
        await using var cluster = await OrleansTestCluster.StartOnPostgresAsync(await postgres.CreateDatabaseAsync(), silos: 2);
        var (survivor, victim) = (cluster.Silos[0], cluster.Silos[1]);
        // Each silo owns the reminders of half the hash ring: of 16 grains, the killed silo owns some
        // (all 16 on the survivor's half has odds of 1 in 65,536).
        var tickers = Enumerable.Range(0, 16).Select(i => cluster.GrainFactory.GetGrain<ITickerGrain>($"tick:{i}")).ToArray();
        await Task.WhenAll(tickers.Select(t => t.StartAsync(OrleansHosting.MinimumReminderPeriod)));
        var ticking = await Task.WhenAll(tickers.Select(t => Failover.PollAsync(() => t.TicksAsync(), s => s.Ticks >= 1, TimeSpan.FromSeconds(20))));

        var clock = Stopwatch.StartNew();
        await cluster.KillSiloAsync(victim);
        var resumed = await Task.WhenAll(tickers.Select((t, i) => Failover.PollAsync(
            () => t.TicksAsync(),
            s => s.Ticks > ticking[i].Ticks && s.LastSilo == survivor.SiloAddress.ToString(),
            TimeSpan.FromSeconds(30))));

        output.WriteLine($"all 16 reminders fired on the survivor within {clock.Elapsed.TotalSeconds:0.0} s of the kill");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.All(resumed, s => Assert.Equal(survivor.SiloAddress.ToString(), s.LastSilo));
    }
}
