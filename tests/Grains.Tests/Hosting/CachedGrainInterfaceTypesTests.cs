using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;
using Orleans.Runtime;
using Orleans.Serialization.TypeSystem;

namespace CryptoPay.Grains.Tests.Hosting;

public sealed class CachedGrainInterfaceTypesTests
{
    [Fact]
    public async Task The_cached_names_of_grain_interfaces_are_the_ones_Orleans_gives_and_calls_reach_their_grains()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions());
        var providers = cluster.Services.GetServices<IGrainInterfaceTypeProvider>().ToList();
        Assert.IsType<CachedGrainInterfaceTypes>(providers[0]);
        Assert.Single(providers.OfType<CachedGrainInterfaceTypes>());

        // What Orleans' own providers and convention answer, without the cache.
        var uncached = new GrainInterfaceTypeResolver(providers.Skip(1), cluster.Services.GetRequiredService<TypeConverter>());
        var resolver = cluster.Services.GetRequiredService<GrainInterfaceTypeResolver>();
        foreach (var type in new[] { typeof(IInvoiceGrain), typeof(IMerchantGrain), typeof(IWebhookEndpointsGrain), typeof(IInvoiceGrain) })
        {
            Assert.Equal(uncached.GetGrainInterfaceType(type), resolver.GetGrainInterfaceType(type));
            Assert.Equal(uncached.GetGrainInterfaceType(type), resolver.GetGrainInterfaceType(type));
        }

        Assert.Null(await cluster.Grains.GetGrain<IInvoiceGrain>(Guid.NewGuid()).Get());
        Assert.Throws<ArgumentException>(() => resolver.GetGrainInterfaceType(typeof(InvoiceGrain)));
    }
}
