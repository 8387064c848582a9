using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Runtime;

namespace CryptoPay.Grains.Hosting;

/// <summary>
/// Orleans names the grain interface of every <c>GetGrain</c> call anew (<see cref="GrainInterfaceTypeResolver"/>: its
/// attribute provider reads the interface's custom attributes by reflection, then the naming convention formats the
/// type's name), with no cache. An invoice's creation makes several <c>GetGrain</c> calls (the invoice, its webhook
/// effect's receiver, the rate limiter, the sandbox chain), and that reflection was ~3% of the gateway's CPU in the
/// creation profile (docs/BENCHMARKS.md). Registered ahead of Orleans' providers, this one answers from a cache that it
/// fills by asking the resolver once per interface, with itself stepped aside, so every answer is Orleans' own.
/// </summary>
public sealed class CachedGrainInterfaceTypes(IServiceProvider services) : IGrainInterfaceTypeProvider
{
    [ThreadStatic]
    private static bool resolving;

    private readonly ConcurrentDictionary<Type, GrainInterfaceType> known = new();

    public bool TryGetGrainInterfaceType(Type type, out GrainInterfaceType grainInterfaceType)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (known.TryGetValue(type, out grainInterfaceType))
        {
            return true;
        }

        if (resolving)
        {
            // The resolver asking its providers on this provider's behalf: the others answer.
            return false;
        }

        resolving = true;
        try
        {
            grainInterfaceType = services.GetRequiredService<GrainInterfaceTypeResolver>().GetGrainInterfaceType(type);
        }
        finally
        {
            resolving = false;
        }

        known.TryAdd(type, grainInterfaceType);
        return true;
    }
}

public static class CachedGrainInterfaceTypesRegistration
{
    /// <summary>Puts <see cref="CachedGrainInterfaceTypes"/> first among the grain interface type providers (the resolver asks them in registration order).</summary>
    public static IServiceCollection AddCachedGrainInterfaceTypes(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.Any(d => d.ServiceType == typeof(IGrainInterfaceTypeProvider) && d.ImplementationType == typeof(CachedGrainInterfaceTypes)))
        {
            services.Insert(0, ServiceDescriptor.Singleton<IGrainInterfaceTypeProvider, CachedGrainInterfaceTypes>());
        }

        return services;
    }
}
