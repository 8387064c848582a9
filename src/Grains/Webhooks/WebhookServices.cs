using CryptoPay.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CryptoPay.Grains.Webhooks;

public static class WebhookServices
{
    /// <summary>The "Webhooks" settings (validated at start-up) and this silo's sender.</summary>
    public static IServiceCollection AddCryptoPayWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection("Webhooks"))
            .Validate(o =>
            {
                o.Validate();
                return true;
            }).ValidateOnStart();
        services.AddGatewayClock();
        services.TryAddSingleton<WebhookFormats>();
        services.TryAddSingleton<WebhookSender>();
        services.TryAddSingleton(sp => sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<WebhookOptions>>().Value);
        return services;
    }
}
