using CryptoPay.OrleansProcessHost;
using CryptoPay.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace CryptoPay.OrleansTests.Hosting;

/// <summary>
/// A silo's start-up ends only once its reminder service has read its reminders (ReminderServiceReadiness): Orleans
/// reads them in the background after the silo joined, and until a read succeeds every reminder registration in the
/// silo's range waits, then fails after 20 s. The reminder table here delays or fails its reads of a ring range, as a
/// loaded PostgreSQL, or one out of connection slots (53300), did.
/// </summary>
public sealed class ReminderStartupTests
{
    [Fact]
    public async Task Start_up_ends_only_once_the_reminder_service_has_read_its_reminders()
    {
        var table = new TroubledReminderTable(read => read == 1 ? Task.Delay(TimeSpan.FromSeconds(5)) : Task.CompletedTask);
        await using var cluster = await StartAsync(table);

        Assert.True(table.ReadsDone > 0, "the silo started while its reminder service was still reading its reminders");
        await RegisterReminderAsync(cluster);
    }

    [Fact]
    public async Task A_first_read_refused_for_want_of_connections_holds_start_up_until_Orleans_reads_again()
    {
        var table = new TroubledReminderTable(read => read == 1 ? Task.FromException(TooManyClients()) : Task.CompletedTask);
        await using var cluster = await StartAsync(table);

        Assert.True(table.ReadsDone > 0 && table.Reads > table.ReadsDone, $"{table.Reads} reads, {table.ReadsDone} done when start-up ended");
        await RegisterReminderAsync(cluster);
    }

    [Fact]
    public async Task A_silo_whose_reminders_do_not_load_stops_start_up_with_one_line()
    {
        var table = new TroubledReminderTable(_ => Task.FromException(TooManyClients()));

        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync(table, loadTimeout: TimeSpan.FromSeconds(3)));

        // The test cluster wraps what the silo's host throws; a silo process reports that exception (Program.cs).
        var startup = Causes(error).OfType<SiloStartupException>().FirstOrDefault();
        Assert.True(startup is not null, error.ToString());
        Assert.True(SiloStartupFailure.IsStartupFailure(startup));
        Assert.Contains("did not load its reminders within 3 s", SiloStartupFailure.Describe(startup), StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Causes(Exception error)
    {
        for (Exception? current = error; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }

    private static PostgresException TooManyClients() => new("sorry, too many clients already", "FATAL", "FATAL", "53300");

    private static async Task RegisterReminderAsync(InProcessTestCluster cluster)
    {
        var ticker = cluster.Client.GetGrain<ITickerGrain>($"tick:{Guid.NewGuid():N}");
        await ticker.StartAsync(OrleansHosting.MinimumReminderPeriod).WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>The embedded default's one silo (in-memory reminders) over <paramref name="table"/>.</summary>
    private static async Task<InProcessTestCluster> StartAsync(TroubledReminderTable table, TimeSpan? loadTimeout = null)
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((_, host) => host.UseOrleans(silo =>
        {
            silo.ConfigureCryptoPay(host.Configuration);
            table.Wrap(silo.Services);
            // Orleans retries a failed first read within a random delay below this period (30 s by default).
            silo.Configure<ReminderOptions>(o => o.RefreshReminderListPeriod = TimeSpan.FromSeconds(1));
            if (loadTimeout is { } timeout)
            {
                silo.Configure<ReminderStartupOptions>(o => o.LoadTimeout = timeout);
            }
        }));
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The silo's reminder table, with each read of a ring range (what the reminder service does to load its reminders)
    /// first awaiting <c>beforeRead(n)</c> for the n-th such read.
    /// </summary>
    private sealed class TroubledReminderTable(Func<int, Task> beforeRead) : IReminderTable
    {
        private IReminderTable inner = null!;
        private int reads;
        private int readsDone;

        public int Reads => Volatile.Read(ref reads);

        public int ReadsDone => Volatile.Read(ref readsDone);

        /// <summary>Puts this table in front of the one the silo's configuration registered.</summary>
        public void Wrap(IServiceCollection services)
        {
            var registered = services.Last(d => d.ServiceType == typeof(IReminderTable));
            services.Remove(registered);
            services.AddSingleton<IReminderTable>(sp =>
            {
                inner = (IReminderTable)(registered.ImplementationInstance
                    ?? registered.ImplementationFactory?.Invoke(sp)
                    ?? ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!));
                return this;
            });
        }

        public async Task<ReminderTableData> ReadRows(uint begin, uint end)
        {
            await beforeRead(Interlocked.Increment(ref reads));
            var rows = await inner.ReadRows(begin, end);
            Interlocked.Increment(ref readsDone);
            return rows;
        }

        public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken = default) => inner.StopAsync(cancellationToken);

        public Task<ReminderTableData> ReadRows(GrainId grainId) => inner.ReadRows(grainId);

        public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => inner.ReadRow(grainId, reminderName);

        public Task<string?> UpsertRow(ReminderEntry entry) => inner.UpsertRow(entry);

        public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => inner.RemoveRow(grainId, reminderName, eTag);

        public Task TestOnlyClearTable() => inner.TestOnlyClearTable();
    }
}
