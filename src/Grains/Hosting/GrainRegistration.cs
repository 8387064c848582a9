using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Idempotency;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.RateLimits;
using CryptoPay.Grains.Sandbox;
using CryptoPay.Grains.Telemetry;
using CryptoPay.Grains.Webhooks;
using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Hosting;
using CryptoPay.Runtime.Storage;
using CryptoPay.Runtime.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace CryptoPay.Grains.Hosting;

public static class GrainRegistration
{
    /// <summary>The schema of every projection the gateway's grains write.</summary>
    public static IReadOnlyList<IMigrationSource> Migrations { get; } =
        [InvoiceProjection.Migrations, LedgerProjections.Migrations, DepositAddressProjection.Migrations];

    /// <summary>Every grain of the gateway, with the invoices projection.</summary>
    public static GrainTypeRegistry AddCryptoPayGrains(this GrainTypeRegistry registry)
    {
        registry.Add<IMerchantGrain, MerchantGrain>();
        registry.Add<IApiKeyGrain, ApiKeyGrain>();
        registry.Add<IInvoiceGrain, InvoiceGrain>(InvoiceProjection.Projection);
        registry.Add<IOrderIndexGrain, OrderIndexGrain>();
        registry.Add<ISandboxChainGrain, SandboxChainGrain>();
        registry.Add<IWebhookEndpointsGrain, WebhookEndpointsGrain>();
        registry.Add<IWebhookDeliveryGrain, WebhookDeliveryGrain>(WebhookDeliveryProjection.Projection);
        registry.Add<IMerchantBalanceGrain, MerchantBalanceGrain>(LedgerProjections.Balances);
        registry.Add<ILedgerOutputGrain, LedgerOutputGrain>(LedgerProjections.Outputs);
        registry.Add<IDepositAddressGrain, DepositAddressGrain>(DepositAddressProjection.Projection);
        registry.Add<IChainWatcherGrain, ChainWatcherGrain>();
        registry.Add<IAddressPoolGrain, AddressPoolGrain>();
        return registry;
    }

    /// <summary>
    /// Grains, their schema and their services for a silo host. <paramref name="chains"/> are the operator's
    /// validated chain settings (see <see cref="ChainsOptions.Validate"/>); none means test mode only.
    /// </summary>
    public static GrainRuntimeBuilder AddCryptoPayGrains(this GrainRuntimeBuilder builder, SandboxChainOptions? sandbox = null, ChainsOptions? chains = null)
    {
        builder.Registry.AddCryptoPayGrains();
        foreach (var migrations in Migrations)
        {
            builder.AddMigrations(migrations);
        }
        builder.Services.AddMetrics();
        builder.Services.TryAddSingleton<GatewayMetrics>();
        builder.Services.TryAddSingleton(new LedgerOptions());
        builder.Services.TryAddSingleton(sp => LedgerQueries.For(sp.GetRequiredService<IGrainStore>()));
        builder.Services.TryAddSingleton(sandbox ?? new SandboxChainOptions());
        builder.Services.TryAddSingleton(sp => InvoiceQueries.For(sp.GetRequiredService<IGrainStore>()));
        builder.Services.TryAddSingleton(sp => WebhookDeliveryQueries.For(sp.GetRequiredService<IGrainStore>()));
        builder.Services.TryAddSingleton(sp => DepositAddressDirectories.For(sp.GetRequiredService<IGrainStore>()));
        builder.Services.AddCryptoPayDeposits(chains);
        return builder;
    }

    /// <summary>The live networks (from validated "Chains" settings), address pools' cache, allocation and payment URIs.</summary>
    public static IServiceCollection AddCryptoPayDeposits(this IServiceCollection services, ChainsOptions? chains = null)
    {
        services.TryAddSingleton(chains ?? new ChainsOptions());
        services.TryAddSingleton(sp => new LiveNetworks(sp.GetRequiredService<ChainsOptions>()));
        services.TryAddSingleton(sp => new DerivedAddressCache(sp.GetService<ILogger<DerivedAddressCache>>()));
        services.TryAddSingleton<DepositAllocation>();
        services.TryAddSingleton<InvoiceCreation>();
        services.TryAddSingleton<PaymentUris>();
        return services;
    }
}
