using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Storage;
using CryptoPay.Grains.Tests.Effects;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orleans;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace CryptoPay.Grains.Tests.Hosting;

[CollectionDefinition(OrleansCluster.Collection)]
public sealed class OrleansClusterCollection : ICollectionFixture<OrleansCluster>;

/// <summary>
/// One Orleans test cluster for the grain tests that run on Orleans: memory state and reminders, the projected
/// storage in memory, and a fake gateway clock the tests move (Orleans keeps the real one for itself).
/// </summary>
public sealed class OrleansCluster : IAsyncLifetime
{
    public const string Collection = "orleans";

    private InProcessTestCluster? cluster;

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>Calls the tests make fail, to drive redelivery through real grain calls.</summary>
    public CallFailures Failures { get; } = new();

    public IGrainFactory Grains => (cluster ?? throw new InvalidOperationException("The cluster has not started.")).Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorageAsDefault();
            silo.UseSystemTextJsonGrainStorageSerializer(); // as the silo does (docs/ORLEANS.md): stored state round-trips through JSON
            silo.UseInMemoryReminderService();
            silo.AddIncomingGrainCallFilter(Failures);
            silo.Services.AddKeyedSingleton<TimeProvider>(GatewayClock.Key, Clock);
            silo.Services.AddProjectedGrainStorage((NpgsqlDataSource?)null, [EffectReceiverGrain.Projection]);
        });
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    /// <summary>Deactivates every idle grain, so the next call activates it again from its stored state.</summary>
    public Task DeactivateAllAsync() => Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.DisposeAsync();
        }
    }
}
