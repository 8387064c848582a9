using CryptoPay.Grains.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace CryptoPay.Silo.Hosting;

/// <summary>OpenTelemetry metrics of the <c>Microsoft.Orleans</c> and <c>CryptoPay</c> meters, scraped in Prometheus text format.</summary>
public static class MetricsHosting
{
    public const string MetricsPath = "/metrics";

    /// <summary>Orleans' meter name (its instruments: messaging, activations, reminders, membership, storage).</summary>
    public const string OrleansMeterName = "Microsoft.Orleans";

    public static IServiceCollection AddCryptoPayMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton(_ => Sdk.CreateMeterProviderBuilder()
            .AddMeter(OrleansMeterName, GatewayMetrics.MeterName)
            .AddPrometheusExporter()
            .Build());
        return services;
    }

    /// <summary>Serves <see cref="MetricsPath"/> to holders of the operator admin key, as /v1/cluster/* and the dashboard.</summary>
    public static IEndpointConventionBuilder MapCryptoPayMetrics(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        // Resolved now, before the host starts, so measurements from the first request on are collected.
        var provider = endpoints.ServiceProvider.GetRequiredService<MeterProvider>();
        return endpoints.MapPrometheusScrapingEndpoint(MetricsPath, provider, branch => branch.UseAdminKey(), null);
    }
}
