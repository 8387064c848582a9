using CryptoPay.OrleansProcessHost;
using CryptoPay.OrleansTests.Membership;
using CryptoPay.Silo.Hosting;

namespace CryptoPay.OrleansTests.Hosting;

/// <summary>The embedded default (no ConnectionStrings:Postgres): memory grain state and in-memory reminders.</summary>
public sealed class EmbeddedDefaultTests
{
    [Fact]
    public async Task Grain_state_and_reminders_work_without_a_database()
    {
        await using var cluster = await OrleansTestCluster.StartEmbeddedAsync();
        var counter = cluster.Client.GetGrain<ICounterGrain>($"ctr:{Guid.NewGuid():N}");
        var ticker = cluster.Client.GetGrain<ITickerGrain>($"tick:{Guid.NewGuid():N}");

        await counter.AddAsync(3);
        await ticker.StartAsync(OrleansHosting.MinimumReminderPeriod);
        await cluster.DeactivateAsync(counter);
        var reread = await counter.ReadAsync();

        Assert.Equal(3, reread.Total);
        // The in-memory reminder service ticks on Orleans' real clock: wait for the tick, as the failover tests do.
        await Failover.PollAsync(() => ticker.TicksAsync(), t => t.Ticks > 0, TimeSpan.FromSeconds(15));
    }
}
