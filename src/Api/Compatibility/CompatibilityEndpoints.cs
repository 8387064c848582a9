using CryptoPay.Api.Compatibility.Ippan;
using CryptoPay.Api.Compatibility.LayerPay;
using Microsoft.AspNetCore.Routing;

namespace CryptoPay.Api.Compatibility;

/// <summary>Maps every compatibility profile under its prefix (API.md, Compatibility profiles).</summary>
public static class CompatibilityEndpoints
{
    /// <summary>Every profile mapped below, for what describes them all (the OpenAPI document's tags).</summary>
    public static IReadOnlyList<CompatibilityProfile> Profiles { get; } = [LayerPayProfile.Profile, IppanProfile.Profile];

    public static IEndpointRouteBuilder MapCompatibilityProfiles(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapLayerPay();
        endpoints.MapIppan();
        return endpoints;
    }
}
