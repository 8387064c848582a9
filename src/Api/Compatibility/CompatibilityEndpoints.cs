using CryptoPay.Api.Compatibility.InvoiceApi;
using CryptoPay.Api.Compatibility.LayerPay;
using Microsoft.AspNetCore.Routing;

namespace CryptoPay.Api.Compatibility;

/// <summary>Maps every compatibility profile under its prefix (API.md, Compatibility profiles).</summary>
public static class CompatibilityEndpoints
{
    /// <summary>Every profile, in the order the docs page shows them.</summary>
    public static IReadOnlyList<CompatibilityProfile> Profiles { get; } = [LayerPayProfile.Profile, InvoiceApiProfile.Profile];

    public static IEndpointRouteBuilder MapCompatibilityProfiles(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapLayerPay();
        endpoints.MapInvoiceApi();
        return endpoints;
    }
}
