using CryptoPay.Grains.Telemetry;
using CryptoPay.Chains.Networks;
using Orleans;
using CryptoPay.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CryptoPay.Grains.Deposits;

public static class ChainWatcherHosting
{
    /// <summary>
    /// Watches every enabled network of "Chains:Networks" (the sandbox excepted) from this silo: a
    /// <see cref="ChainWatchRunner"/> that answers the watchers' poll reminders when the silo has the <c>watchers</c>
    /// role (<see cref="SiloRoles"/>, registered by the silo host; without it every role), and a hosted service that
    /// starts the reminders. The networks are the validated <see cref="ChainsOptions"/> singleton that
    /// <c>AddCryptoPayGrains</c> registers; call after it.
    /// </summary>
    public static IServiceCollection AddChainWatchers(this IServiceCollection services)
    {
        services.TryAddSingleton<ChainWatchSignals>();
        services.TryAddSingleton(sp =>
        {
            var chains = sp.GetRequiredService<ChainsOptions>();
            var roles = sp.GetService<SiloRoles>() ?? new SiloRoles();
            var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan }; // each RPC call has its own timeout
            var watches = chains.Networks
                .Where(n => n.Value.Enabled && n.Key != Network.Sandbox.Id)
                .Select(n => new ChainWatch(n.Key, n.Value, ChainReaders.Create(n.Key, n.Value, http)))
                .ToList();
            var runner = new ChainWatchRunner(
                sp.GetRequiredService<IGrainFactory>(),
                sp.GetRequiredService<IDepositAddressDirectory>(),
                watches,
                roles.Has(SiloRoles.Watchers) ? sp.GetRequiredService<ChainWatchSignals>() : null,
                sp.GetService<ILogger<ChainWatchRunner>>());
            sp.GetService<GatewayMetrics>()?.Observe(runner.Metrics);
            return runner;
        });
        services.AddHostedService<ChainWatchersHostedService>();
        return services;
    }
}

/// <summary>Starts the watchers' poll reminders once the silo runs (idempotent on every silo).</summary>
internal sealed class ChainWatchersHostedService(ChainWatchRunner runner) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => runner.StartAsync();

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
