using CryptoPay.Api.Hosting;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Sandbox;
using CryptoPay.Grains.Webhooks;
using CryptoPay.Silo.Cluster;
using CryptoPay.Silo.Hosting;
using Npgsql;

namespace CryptoPay.Silo.Gateway;

/// <summary>The payment gateway on top of the silo: its grains, the merchant API and the sandbox chain.</summary>
public static class GatewayHostingExtensions
{
    /// <summary>
    /// Orleans and the merchant API in one process, with every setting checked before anything starts. Operator
    /// commands do not call this: they reach the cluster as Orleans clients.
    /// </summary>
    public static WebApplicationBuilder AddCryptoPayGateway(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var notices = StartupNotices.Apply(builder.Configuration, builder.Environment, embedded: string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("Postgres")));
        builder.Services.AddHostedService(sp => new StartupNotices(notices, sp.GetRequiredService<ILogger<StartupNotices>>()));
        builder.AddCryptoPaySilo();
        builder.UseCryptoPayOrleans();

        var sandbox = new SandboxChainOptions();
        builder.Configuration.GetSection("Sandbox").Bind(sandbox);
        if (sandbox.BlockInterval < TimeSpan.FromMilliseconds(100))
        {
            throw new InvalidOperationException($"Sandbox:BlockInterval must be at least 100 ms (was {sandbox.BlockInterval}).");
        }

        // The operator's deposit fee: bound and checked now, so a bad value stops start-up rather than a credit.
        var ledger = new LedgerOptions();
        builder.Configuration.GetSection("Ledger").Bind(ledger);
        ledger.Validate();
        builder.Services.AddSingleton(ledger);

        // The operator's chains: a bad network entry stops start-up with one line naming its key.
        var chains = ChainsOptions.Bind(builder.Configuration);
        chains.Validate();

        // Projected grain state and list queries on the silo's NpgsqlDataSource (AddCryptoPaySilo registers it on
        // ConnectionStrings:Postgres), else in memory.
        builder.Services.AddCryptoPayGrainServices(sp => sp.GetService<NpgsqlDataSource>(), sandbox, chains);
        builder.Services.AddChainWatchers();
        builder.Services.AddCryptoPayWebhooks(builder.Configuration);
        builder.Services.AddCryptoPayApi(builder.Configuration);
        builder.Services.AddCryptoPayMetrics();
        return builder;
    }

    public static WebApplication MapCryptoPayGateway(this WebApplication app)
    {
        app.MapCryptoPaySilo();
        app.MapCryptoPayDashboard();
        app.MapClusterEndpoints();
        app.MapCryptoPayMetrics();
        app.MapCryptoPayApi();
        return app;
    }
}
