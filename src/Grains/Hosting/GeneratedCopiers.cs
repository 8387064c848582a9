using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CryptoPay.Grains.Hosting;

/// <summary>
/// Orleans' generated grain references take the deep copiers of their methods' arguments when each reference is
/// created (<c>OrleansGeneratedCodeHelper.GetService</c>: the service provider's instance if it has one, otherwise a
/// new one built by <c>ActivatorUtilities.CreateInstance</c>, by reflection). Every <c>GetGrain</c> creates a reference,
/// so a call to a grain whose interface takes a few kinds of argument built that many copiers by reflection first: in
/// the invoice creation profile (docs/BENCHMARKS.md) ~5% of the gateway's CPU. Registered once as singletons, the
/// references take the shared ones. The copiers hold nothing but the copiers and activators they use.
/// </summary>
public static class GeneratedCopiers
{
    /// <summary>Registers every non-generic copier Orleans generated in <paramref name="assembly"/> (namespace <c>OrleansCodeGen</c>).</summary>
    public static IServiceCollection AddGeneratedCopiers(this IServiceCollection services, Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(assembly);
        foreach (var type in assembly.GetTypes())
        {
            if (type is { IsPublic: true, IsAbstract: false, IsGenericTypeDefinition: false } &&
                type.Namespace?.StartsWith("OrleansCodeGen", StringComparison.Ordinal) == true &&
                type.Name.StartsWith("Copier_", StringComparison.Ordinal))
            {
                // Built as Orleans would build it, once.
                services.TryAddSingleton(type, sp => ActivatorUtilities.CreateInstance(sp, type));
            }
        }

        return services;
    }
}
