using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace CryptoPay.Silo.Hosting;

/// <summary>
/// The "Orleans" configuration section: where this silo listens and which cluster it joins. Read and
/// checked when the silo is configured, so a bad value stops start-up with one line naming its key.
/// </summary>
public sealed class OrleansSettings
{
    public const string Section = "Orleans";

    /// <summary>Silo-to-silo port (Orleans:SiloPort).</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Client gateway port (Orleans:GatewayPort).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>The IP address or host name other silos reach this one at (Orleans:AdvertisedAddress); default: this host's address.</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>The cluster this silo joins (Orleans:ClusterId): silos with the same id form one membership.</summary>
    public string ClusterId { get; set; } = "cryptopay";

    /// <summary>The service whose state and reminders this silo serves (Orleans:ServiceId): keep it across deployments.</summary>
    public string ServiceId { get; set; } = "cryptopay";

    /// <summary>
    /// How often the Orleans Dashboard's timers collect the silo's runtime and grain statistics
    /// (Orleans:DashboardCounterIntervalSeconds; Orleans' default is every second). The dashboard's own reading of Orleans'
    /// meters stays at once a second whatever this says (docs/ORLEANS.md).
    /// </summary>
    public int DashboardCounterIntervalSeconds { get; set; } = 5;

    /// <summary>ConnectionStrings:Postgres; null for the embedded default (one silo, in-memory state and reminders).</summary>
    public string? Postgres { get; private set; }

    /// <summary>The advertised address resolved to an IP address, when one is configured.</summary>
    public IPAddress? AdvertisedIPAddress { get; private set; }

    /// <summary>Binds the section and the connection string and checks them; throws <see cref="SiloStartupException"/> naming the bad key.</summary>
    public static OrleansSettings Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settings = new OrleansSettings();
        configuration.GetSection(Section).Bind(settings);
        settings.Postgres = configuration.GetConnectionString("Postgres") is { } postgres && !string.IsNullOrWhiteSpace(postgres) ? postgres : null;
        settings.Validate();
        return settings;
    }

    private void Validate()
    {
        CheckPort(nameof(SiloPort), SiloPort);
        CheckPort(nameof(GatewayPort), GatewayPort);
        if (SiloPort == GatewayPort)
        {
            throw new SiloStartupException($"{Section}:{nameof(GatewayPort)} must differ from {Section}:{nameof(SiloPort)} (both are {SiloPort}).");
        }

        CheckId(nameof(ClusterId), ClusterId);
        CheckId(nameof(ServiceId), ServiceId);
        if (DashboardCounterIntervalSeconds is < 1 or > 3600)
        {
            throw new SiloStartupException($"{Section}:{nameof(DashboardCounterIntervalSeconds)} must be between 1 and 3600 (was {DashboardCounterIntervalSeconds}).");
        }

        if (!string.IsNullOrWhiteSpace(AdvertisedAddress))
        {
            AdvertisedIPAddress = Resolve(AdvertisedAddress.Trim());
        }

        if (Postgres is not null)
        {
            NpgsqlConnectionStringBuilder parsed;
            try
            {
                parsed = new NpgsqlConnectionStringBuilder(Postgres);
            }
            catch (ArgumentException error)
            {
                throw new SiloStartupException($"ConnectionStrings:Postgres is not a valid PostgreSQL connection string: {error.Message}", error);
            }

            if (string.IsNullOrWhiteSpace(parsed.Host))
            {
                throw new SiloStartupException("ConnectionStrings:Postgres must name a Host.");
            }
        }
    }

    private static void CheckPort(string key, int port)
    {
        if (port is < 1 or > 65535)
        {
            throw new SiloStartupException($"{Section}:{key} must be a TCP port between 1 and 65535 (was {port}).");
        }
    }

    private static void CheckId(string key, string id)
    {
        // The ids are stored in the membership, state and reminder tables and shown in logs: keep them plain.
        if (string.IsNullOrWhiteSpace(id) || id.Length > 150 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new SiloStartupException($"{Section}:{key} must be 1 to 150 letters, digits, '-', '_' or '.' (was '{id}').");
        }
    }

    private static IPAddress Resolve(string address)
    {
        if (IPAddress.TryParse(address, out var ip))
        {
            return ip;
        }

        try
        {
            return Dns.GetHostAddresses(address).OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).First();
        }
        catch (Exception error) when (error is SocketException or ArgumentException or InvalidOperationException)
        {
            throw new SiloStartupException($"{Section}:{nameof(AdvertisedAddress)} '{address}' is neither an IP address nor a host name that resolves: {error.Message}", error);
        }
    }
}
