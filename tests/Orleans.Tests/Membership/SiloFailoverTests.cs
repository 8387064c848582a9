using System.Diagnostics;
using CryptoPay.OrleansProcessHost;
using CryptoPay.Silo.Hosting;
using CryptoPay.TestSupport.Postgres;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace CryptoPay.OrleansTests.Membership;

/// <summary>Two silos joined through ADO.NET clustering on our schema; one is killed, the other takes over.</summary>
[Collection("postgres")]
public sealed class SiloFailoverTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_killed_silos_grains_answer_on_the_survivor_within_10_s()
    {
        await using var cluster = await OrleansTestCluster.StartOnPostgresAsync(await postgres.CreateDatabaseAsync(), silos: 2);
        var (survivor, victim) = (cluster.Silos[0], cluster.Silos[1]);
        var (counter, before) = await ActivatedOnAsync(cluster, victim);

        var clock = Stopwatch.StartNew();
        await cluster.KillSiloAsync(victim);
        var after = await PollAsync(() => counter.ReadAsync(), r => r.Silo == survivor.SiloAddress.ToString(), TimeSpan.FromSeconds(30));
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
        var ticking = await Task.WhenAll(tickers.Select(t => PollAsync(() => t.TicksAsync(), s => s.Ticks >= 1, TimeSpan.FromSeconds(20))));

        var clock = Stopwatch.StartNew();
        await cluster.KillSiloAsync(victim);
        var resumed = await Task.WhenAll(tickers.Select((t, i) => PollAsync(
            () => t.TicksAsync(),
            s => s.Ticks > ticking[i].Ticks && s.LastSilo == survivor.SiloAddress.ToString(),
            TimeSpan.FromSeconds(30))));

        output.WriteLine($"all 16 reminders fired on the survivor within {clock.Elapsed.TotalSeconds:0.0} s of the kill");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.All(resumed, s => Assert.Equal(survivor.SiloAddress.ToString(), s.LastSilo));
    }

    /// <summary>A counter grain activated on <paramref name="silo"/>, with its state after one write.</summary>
    private static async Task<(ICounterGrain Grain, CounterReading Reading)> ActivatedOnAsync(TestCluster cluster, SiloHandle silo)
    {
        for (var i = 0; i < 1000; i++)
        {
            var grain = cluster.GrainFactory.GetGrain<ICounterGrain>($"failover:{i}");
            var reading = await grain.AddAsync(i + 1);
            if (reading.Silo == silo.SiloAddress.ToString())
            {
                return (grain, reading);
            }
        }

        throw new InvalidOperationException($"no grain was placed on {silo.SiloAddress}");
    }

    /// <summary>Calls until the answer satisfies <paramref name="done"/>; a call that fails or hangs is retried.</summary>
    private static async Task<T> PollAsync<T>(Func<Task<T>> call, Func<T, bool> done, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        var last = "no answer";
        while (clock.Elapsed < limit)
        {
            try
            {
                var answer = await call().WaitAsync(CallTimeout);
                if (done(answer))
                {
                    return answer;
                }

                last = $"answer {answer}";
            }
            catch (Exception error) when (error is TimeoutException or SiloUnavailableException or OrleansMessageRejectionException)
            {
                last = error.GetType().Name;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"no satisfying answer within {limit.TotalSeconds:0} s; last: {last}");
    }
}
