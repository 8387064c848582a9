using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Hosting;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Memory;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Runtime.Testing;

public sealed class TestClusterOptions
{
    public int Silos { get; set; } = 2;

    /// <summary>The shared store; the in-memory store when not set.</summary>
    public IGrainStore? Store { get; set; }

    /// <summary>Drive time by hand (default); null runs on the system clock.</summary>
    public ManualTimeProvider? Clock { get; set; } = new();

    public Action<GrainTypeRegistry> Grains { get; set; } = _ => { };

    public Action<int, SiloOptions>? ConfigureSilo { get; set; }

    /// <summary>
    /// With a fake clock, silos poll for due reminders and messages only when the test moves time
    /// (<see cref="TestCluster.AdvanceTimeAsync"/>), so every run is the same. Set true to keep the
    /// background polls running as in production.
    /// </summary>
    public bool BackgroundPolling { get; set; }

    public Action<IServiceCollection>? Services { get; set; }
}

/// <summary>
/// N silos in one process over one store, for tests: talk to grains through any silo, kill and
/// restart silos, and move a fake clock while every due reminder and message is processed.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly TestClusterOptions options;
    private readonly GrainTypeRegistry registry = new();
    private readonly ServiceProvider services;
    private readonly Silo[] silos;
    private int generation;

    private TestCluster(TestClusterOptions options)
    {
        this.options = options;
        options.Grains(registry);
        Store = options.Store ?? new MemoryGrainStore();
        Clock = options.Clock;
        var collection = new ServiceCollection();
        collection.AddSingleton(Time);
        options.Services?.Invoke(collection);
        services = collection.BuildServiceProvider();
        silos = new Silo[options.Silos];
    }

    public IGrainStore Store { get; }

    public ManualTimeProvider? Clock { get; }

    public TimeProvider Time => (TimeProvider?)Clock ?? TimeProvider.System;

    public IReadOnlyList<Silo> Silos => silos;

    /// <summary>A grain factory on the first silo that is running.</summary>
    public IGrainFactory Client => silos.First(s => s.State == SiloState.Running).GrainFactory;

    public static async Task<TestCluster> StartAsync(TestClusterOptions options, CancellationToken ct = default)
    {
        var cluster = new TestCluster(options);
        for (var i = 0; i < cluster.silos.Length; i++)
        {
            cluster.silos[i] = cluster.CreateSilo(i);
            await cluster.silos[i].StartAsync(ct).ConfigureAwait(false);
        }

        return cluster;
    }

    public IGrainFactory FactoryOf(int silo) => silos[silo].GrainFactory;

    /// <summary>Crash a silo: nothing is drained or released.</summary>
    public void KillSilo(int index) => silos[index].Kill();

    public Task StopSiloAsync(int index) => silos[index].StopAsync(CancellationToken.None);

    /// <summary>Replace a killed or stopped silo by a new one (new silo id) in the same slot.</summary>
    public async Task<Silo> RestartSiloAsync(int index)
    {
        var old = silos[index];
        if (old.State == SiloState.Running)
        {
            await old.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        var silo = CreateSilo(index);
        await silo.StartAsync(CancellationToken.None).ConfigureAwait(false);
        silos[index] = silo;
        return silo;
    }

    /// <summary>Moves the fake clock and processes everything that became due, until the cluster is quiet.</summary>
    public async Task AdvanceTimeAsync(TimeSpan by)
    {
        var clock = Clock ?? throw new InvalidOperationException("This cluster runs on the system clock.");
        clock.Advance(by);
        await RunUntilIdleAsync().ConfigureAwait(false);
    }

    /// <summary>Runs due reminders and outbox messages on every running silo and waits until no turn is queued.</summary>
    public async Task RunUntilIdleAsync(CancellationToken ct = default)
    {
        for (var round = 0; round < 10_000; round++)
        {
            var work = 0;
            foreach (var silo in silos.Where(s => s.State == SiloState.Running))
            {
                await silo.WhenIdleAsync(ct).ConfigureAwait(false);
                work += await silo.RunDueWorkAsync(ct).ConfigureAwait(false);
                await silo.WhenIdleAsync(ct).ConfigureAwait(false);
            }

            if (work == 0)
            {
                return;
            }
        }

        throw new InvalidOperationException("The cluster did not become idle: some work keeps re-scheduling itself immediately.");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in silos.Where(s => s is not null))
        {
            if (silo.State == SiloState.Running)
            {
                await silo.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }

            await silo.DisposeAsync().ConfigureAwait(false);
        }

        await services.DisposeAsync().ConfigureAwait(false);
    }

    private Silo CreateSilo(int index)
    {
        var siloOptions = new SiloOptions { SiloId = $"silo-{index}-{++generation}" };
        if (Clock is not null && !options.BackgroundPolling)
        {
            siloOptions.ReminderPollInterval = TimeSpan.FromDays(30);
            siloOptions.MessagePollInterval = TimeSpan.FromDays(30);
        }

        options.ConfigureSilo?.Invoke(index, siloOptions);
        return new Silo(Store, registry, siloOptions, services, Time);
    }
}
