using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Sandbox;
using CryptoPay.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orleans;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Runtime;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Orleans.TestingHost;

namespace CryptoPay.Grains.Tests.Hosting;

/// <summary>What a <see cref="GatewayCluster"/> runs on; the stores may outlive one cluster so a test can start another on them.</summary>
public sealed class GatewayClusterOptions
{
    /// <summary>The projected storage (invoices, ledger, deposit addresses, deliveries) on PostgreSQL; null: in memory.</summary>
    public NpgsqlDataSource? DataSource { get; init; }

    /// <summary>The in-memory projected storage to reuse (a cluster started again on the same store); ignored with <see cref="DataSource"/>.</summary>
    public MemoryProjectedGrainStorage? MemoryStorage { get; init; }

    /// <summary>The default grain storage (address pools, chain watchers, the sandbox chain, order indexes) to reuse.</summary>
    public SharedMemoryGrainStorage? DefaultStorage { get; init; }

    public LedgerOptions Ledger { get; init; } = new();

    public SandboxChainOptions Sandbox { get; init; } = new();

    public ChainsOptions? Chains { get; init; }

    public DerivedAddressCache? AddressCache { get; init; }

    public FakeTimeProvider? Clock { get; init; }

    /// <summary>Reminder registrations the test makes fail; null: none fail.</summary>
    public ReminderFailures? ReminderFailures { get; init; }

    /// <summary>Fails chosen calls (a refusal, or an acknowledgement lost after the call applied).</summary>
    public CallFailures? CallFailures { get; init; }
}

/// <summary>
/// One in-process Orleans silo with the gateway's grains and services (<see cref="GrainRegistration.AddCryptoPayGrainServices"/>),
/// started per test as the old runtime's TestCluster was: a fake gateway clock the test moves (Orleans keeps the real
/// one), memory reminders, and stores the test may hand to the next cluster. One silo: every silo of an in-process
/// cluster has its own container, and Orleans itself guarantees one activation per grain across silos.
/// </summary>
public sealed class GatewayCluster : IAsyncDisposable
{
    private readonly InProcessTestCluster cluster;

    private GatewayCluster(InProcessTestCluster cluster, FakeTimeProvider clock, ProjectedGrainStorage storage, SharedMemoryGrainStorage defaultStorage)
    {
        this.cluster = cluster;
        Clock = clock;
        Storage = storage;
        DefaultStorage = defaultStorage;
    }

    public FakeTimeProvider Clock { get; }

    public ProjectedGrainStorage Storage { get; }

    public SharedMemoryGrainStorage DefaultStorage { get; }

    public IGrainFactory Grains => cluster.Client;

    public IServiceProvider Services => cluster.Silos[0].ServiceProvider;

    public ILedgerQuery Ledger => Services.GetRequiredService<ILedgerQuery>();

    public static async Task<GatewayCluster> StartAsync(GatewayClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clock = options.Clock ?? new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        ProjectedGrainStorage storage = options.DataSource is { } postgres
            ? new PostgresProjectedGrainStorage(postgres, GrainRegistration.Projections)
            : options.MemoryStorage ?? new MemoryProjectedGrainStorage(GrainRegistration.Projections);
        var defaultStorage = options.DefaultStorage ?? new SharedMemoryGrainStorage();
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.UseInMemoryReminderService();
            options.ReminderFailures?.Decorate(silo.Services);
            if (options.CallFailures is { } failures)
            {
                silo.Services.AddSingleton<IIncomingGrainCallFilter>(failures);
            }

            silo.Services.AddGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (_, _) => defaultStorage);
            silo.Services.AddKeyedSingleton<TimeProvider>(GatewayClock.Key, clock);
            silo.Services.AddSingleton(storage);
            silo.Services.AddSingleton(options.Ledger);
            silo.Services.AddSingleton(options.Sandbox);
            if (options.AddressCache is { } cache)
            {
                silo.Services.AddSingleton(cache);
            }

            silo.Services.AddCryptoPayGrainServices(_ => options.DataSource, options.Sandbox, options.Chains);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new GatewayCluster(cluster, clock, storage, defaultStorage);
    }

    /// <summary>Wakes every grain with a wake reminder: what is due by the gateway clock is done and pending effects delivered.</summary>
    public async Task RunDueWorkAsync()
    {
        // A wake may leave work for another grain (a mined block confirms invoices, which credit outputs): a few rounds.
        for (var round = 0; round < 3; round++)
        {
            if (await DueWork.WakeAllAsync(Services.GetRequiredService<IReminderTable>(), Grains) == 0)
            {
                return;
            }
        }
    }

    /// <summary>Moves the gateway clock and runs what became due (the old cluster's AdvanceTimeAsync).</summary>
    public async Task AdvanceTimeAsync(TimeSpan by)
    {
        Clock.Advance(by);
        await RunDueWorkAsync();
    }

    /// <summary>Deactivates every idle activation: the next call reads its grain from the store again (the old tests' silo kill and restart).</summary>
    public async Task DeactivateAllAsync()
    {
        await Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
    }

    public async ValueTask DisposeAsync()
    {
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();
    }
}

/// <summary>
/// Default grain storage in memory that outlives its cluster (Orleans' own memory storage lives in a grain of the
/// silo): states are kept as JSON, with a version as ETag, like the projected storage.
/// </summary>
public sealed class SharedMemoryGrainStorage : IGrainStorage
{
    private readonly ConcurrentDictionary<(string, GrainId), (long Version, byte[] Json)> states = new();

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (states.TryGetValue((stateName, grainId), out var stored))
        {
            grainState.State = JsonSerializer.Deserialize<T>(stored.Json, StateJson.Options)!;
            grainState.ETag = stored.Version.ToString(CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
        else
        {
            grainState.State = Activator.CreateInstance<T>();
            grainState.ETag = null;
            grainState.RecordExists = false;
        }

        return Task.CompletedTask;
    }

    /// <summary>A state name whose writes fail as if the database were down (null: none).</summary>
    public string? FailWritesOf { get; set; }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (stateName == FailWritesOf)
        {
            throw new Npgsql.NpgsqlException("Failed to connect to 127.0.0.1:1", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
        }

        var key = (stateName, grainId);
        var json = JsonSerializer.SerializeToUtf8Bytes(grainState.State, StateJson.Options);
        long version;
        if (grainState.ETag is null)
        {
            version = 1;
            if (!states.TryAdd(key, (version, json)))
            {
                throw new InconsistentStateException($"{stateName} of {grainId} was written by another activation.", "unknown", "none");
            }
        }
        else
        {
            var expected = long.Parse(grainState.ETag, CultureInfo.InvariantCulture);
            version = expected + 1;
            if (!states.TryGetValue(key, out var current) || current.Version != expected || !states.TryUpdate(key, (version, json), current))
            {
                throw new InconsistentStateException($"{stateName} of {grainId} was written by another activation.", "unknown", grainState.ETag);
            }
        }

        grainState.ETag = version.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        states.TryRemove((stateName, grainId), out _);
        grainState.State = Activator.CreateInstance<T>();
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }
}
