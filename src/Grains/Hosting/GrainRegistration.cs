using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Idempotency;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.PaymentLinks;
using CryptoPay.Grains.RateLimits;
using CryptoPay.Grains.Sandbox;
using CryptoPay.Grains.Telemetry;
using CryptoPay.Grains.Webhooks;
using CryptoPay.Grains.Settlements;
using CryptoPay.Grains.Storage;
using CryptoPay.Grains.Withdrawals;
using Npgsql;
using Orleans;
using Orleans.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace CryptoPay.Grains.Hosting;

public static class GrainRegistration
{
    /// <summary>The schema of every projection the gateway's grains write.</summary>
    public static IReadOnlyList<IMigrationSource> Migrations { get; } =
        [InvoiceProjection.Migrations, LedgerProjections.Migrations, DepositAddressProjection.Migrations];

    /// <summary>The tables of the grain types stored in <see cref="ProjectedGrainStorage"/>.</summary>
    public static IReadOnlyList<TableProjection> Projections { get; } =
    [
        InvoiceProjection.Projection, WebhookDeliveryProjection.Projection, LedgerProjections.Balances, LedgerProjections.Outputs,
        DepositAddressProjection.Projection, WithdrawalProjection.Projection, SettlementProjection.Projection,
    ];

    /// <summary>
    /// What the Orleans grains of the gateway need beside Orleans itself: the projected storage (on PostgreSQL when
    /// <paramref name="dataSource"/> gives one, its tables created by <see cref="Migrations"/>; else in memory), the
    /// list queries over it, and the services the grains take.
    /// </summary>
    public static IServiceCollection AddCryptoPayGrainServices(this IServiceCollection services, Func<IServiceProvider, NpgsqlDataSource?> dataSource, SandboxChainOptions? sandbox = null, ChainsOptions? chains = null)
    {
        services.AddProjectedGrainStorage(dataSource, Projections);
        services.AddGeneratedCopiers(typeof(GrainRegistration).Assembly);
        services.AddCachedGrainInterfaceTypes();
        services.AddSingleton<IIncomingGrainCallFilter, StoreFailures>();
        StoreFailures.AllowNpgsqlExceptions(services);
        services.AddMetrics();
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddSingleton(new LedgerOptions());
        services.TryAddSingleton(sandbox ?? new SandboxChainOptions());
        services.TryAddSingleton(sp => LedgerQueries.For(sp.GetRequiredService<ProjectedGrainStorage>()));
        services.TryAddSingleton(sp => InvoiceQueries.For(sp.GetRequiredService<ProjectedGrainStorage>()));
        services.TryAddSingleton(sp => WebhookDeliveryQueries.For(sp.GetRequiredService<ProjectedGrainStorage>()));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Effects.SweeperStartup<Webhooks.IWebhookLeaseSweeperGrain>>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Effects.SweeperStartup<Invoices.IInvoiceWakeSweeperGrain>>();
        services.TryAddSingleton(sp => DepositAddressDirectories.For(sp.GetRequiredService<ProjectedGrainStorage>()));
        services.TryAddSingleton(sp => WithdrawalQueries.For(sp.GetRequiredService<ProjectedGrainStorage>()));
        services.AddCryptoPayDeposits(chains);
        // Each RPC call of a payout wallet has its own timeout.
        services.TryAddSingleton(sp => new PayoutWallets(sp.GetRequiredService<ChainsOptions>(), new HttpClient { Timeout = Timeout.InfiniteTimeSpan }));
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SettlementSchedulerStartup>();
        services.TryAddSingleton(sp => new FaultPoints(sp.GetService<Microsoft.Extensions.Configuration.IConfiguration>()));
        return services;
    }

    /// <summary>The live networks (from validated "Chains" settings), address pools' cache, allocation and payment URIs.</summary>
    public static IServiceCollection AddCryptoPayDeposits(this IServiceCollection services, ChainsOptions? chains = null)
    {
        services.TryAddSingleton(chains ?? new ChainsOptions());
        services.TryAddSingleton(sp => new LiveNetworks(sp.GetRequiredService<ChainsOptions>()));
        services.TryAddSingleton(sp => new DerivedAddressCache(sp.GetService<ILogger<DerivedAddressCache>>()));
        services.TryAddSingleton<DepositAllocation>();
        services.TryAddSingleton<PaymentUris>();
        return services;
    }
}
