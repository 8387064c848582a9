using CryptoPay.Runtime.Hosting;
using Microsoft.AspNetCore.Hosting;

namespace CryptoPay.Silo.Hosting;

/// <summary>Reads the "Silo" configuration section the way a silo process needs it.</summary>
internal static class SiloConfiguration
{
    public const string Section = "Silo";

    private static readonly HashSet<string> WildcardHosts = new(StringComparer.Ordinal) { "+", "*", "0.0.0.0", "[::]", "::" };

    /// <summary>Binds and validates the settings now, so a bad one stops the process before anything starts.</summary>
    public static void Validate(IConfiguration configuration)
    {
        var options = new SiloOptions();
        configuration.GetSection(Section).Bind(options);
        Apply(configuration, options);
        options.Validate();
    }

    /// <summary>Completes the bound options: the address defaults to the HTTP URL.</summary>
    public static void Apply(IConfiguration configuration, SiloOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Address))
        {
            options.Address = DefaultAddress(configuration);
        }
    }

    /// <summary>The first URL Kestrel listens on, with a wildcard host replaced by this machine's name.</summary>
    public static string DefaultAddress(IConfiguration configuration)
    {
        var url = FirstOf(configuration[WebHostDefaults.ServerUrlsKey])
            ?? (FirstOf(configuration[WebHostDefaults.HttpPortsKey]) is { } httpPort ? $"http://+:{httpPort}" : null)
            ?? (FirstOf(configuration[WebHostDefaults.HttpsPortsKey]) is { } httpsPort ? $"https://+:{httpsPort}" : null)
            ?? "http://localhost:5000";
        BindingAddress binding;
        try
        {
            binding = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return url;
        }

        var host = WildcardHosts.Contains(binding.Host) ? Environment.MachineName : binding.Host;
        return $"{binding.Scheme}://{host}:{binding.Port}{binding.PathBase}";
    }

    private static string? FirstOf(string? list) =>
        list?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
}
