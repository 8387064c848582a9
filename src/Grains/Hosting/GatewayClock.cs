using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CryptoPay.Grains.Hosting;

/// <summary>
/// The gateway's clock: the TimeProvider our code (endpoints, grains, services) reads, registered under
/// <see cref="Key"/>. It is keyed because Orleans, hosted in the same container, reads the unkeyed TimeProvider for
/// its own membership, directory and messaging timings: a test that moves a fake gateway clock must not move those.
/// Production registers <see cref="TimeProvider.System"/>; tests register a fake one under the key.
/// </summary>
public static class GatewayClock
{
    public const string Key = "cryptopay.clock";

    /// <summary>Registers the system clock as the gateway clock unless one is registered already.</summary>
    public static IServiceCollection AddGatewayClock(this IServiceCollection services)
    {
        services.TryAddKeyedSingleton(Key, TimeProvider.System);
        return services;
    }
}
