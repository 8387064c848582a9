using CryptoPay.Api.Compatibility.CryptoPayment;
using CryptoPay.Api.Compatibility.Ippan;
using CryptoPay.Api.Compatibility.InvoiceApi;
using CryptoPay.Api.Compatibility.LayerPay;
using CryptoPay.Api.Compatibility.Pepay;
using CryptoPay.Grains.Webhooks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Api.Compatibility;

/// <summary>Maps every compatibility profile under its prefix (API.md, Compatibility profiles).</summary>
public static class CompatibilityEndpoints
{
    /// <summary>Every profile, in the order the docs page shows them.</summary>
    public static IReadOnlyList<CompatibilityProfile> Profiles { get; } = [LayerPayProfile.Profile, PepayProfile.Profile, CryptoPaymentProfile.Profile, IppanProfile.Profile, InvoiceApiProfile.Profile];

    /// <summary>The profiles' services: their webhook formats.</summary>
    public static IServiceCollection AddCompatibilityProfiles(this IServiceCollection services)
    {
        services.AddSingleton<WebhookFormat, PepayWebhookFormat>();
        services.AddSingleton<WebhookFormat, CryptoPaymentWebhookFormat>();
        services.AddSingleton<WebhookFormat, InvoiceApiWebhookFormat>();
        return services;
    }

    public static IEndpointRouteBuilder MapCompatibilityProfiles(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapLayerPay();
        endpoints.MapPepay();
        endpoints.MapCryptoPayment();
        endpoints.MapIppan();
        endpoints.MapInvoiceApi();
        return endpoints;
    }
}
