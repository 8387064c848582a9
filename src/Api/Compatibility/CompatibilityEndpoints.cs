using CryptoPay.Api.Compatibility.LayerPay;
using CryptoPay.Api.Compatibility.Pepay;
using CryptoPay.Grains.Webhooks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Api.Compatibility;

/// <summary>Maps every compatibility profile under its prefix (API.md, Compatibility profiles).</summary>
public static class CompatibilityEndpoints
{
    /// <summary>The profiles' services: their webhook formats.</summary>
    public static IServiceCollection AddCompatibilityProfiles(this IServiceCollection services)
    {
        services.AddSingleton<WebhookFormat, PepayWebhookFormat>();
        return services;
    }

    public static IEndpointRouteBuilder MapCompatibilityProfiles(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapLayerPay();
        endpoints.MapPepay();
        return endpoints;
    }
}
