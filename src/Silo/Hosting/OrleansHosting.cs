using System.Net;
using CryptoPay.Api.Access;
using CryptoPay.Grains.Hosting;
using CryptoPay.Silo.Storage;
using Npgsql;
using Orleans.Configuration;
using Orleans.Dashboard;

namespace CryptoPay.Silo.Hosting;

/// <summary>
/// Orleans in a silo process, configured from IConfiguration (docs/ORLEANS.md lists the settings):
/// the embedded default without ConnectionStrings:Postgres (localhost clustering, memory grain state,
/// in-memory reminders), else ADO.NET clustering, grain state and reminders on our PostgreSQL schema.
/// </summary>
public static class OrleansHosting
{
    /// <summary>The ADO.NET invariant the providers load Npgsql by.</summary>
    public const string AdoNetInvariant = "Npgsql";

    /// <summary>Where <see cref="MapCryptoPayDashboard"/> serves the Orleans Dashboard.</summary>
    public const string DashboardPath = "/dashboard";

    /// <summary>The shortest reminder period a grain may register (Orleans' own minimum is one minute).</summary>
    public static readonly TimeSpan MinimumReminderPeriod = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Hosts an Orleans silo in this process (<see cref="ConfigureCryptoPay"/>) with the Orleans Dashboard;
    /// map the dashboard with <see cref="MapCryptoPayDashboard"/>. A bad setting throws
    /// <see cref="SiloStartupException"/> here, before anything starts.
    /// </summary>
    public static IHostApplicationBuilder UseCryptoPayOrleans(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.UseOrleans(silo => silo.ConfigureCryptoPay(builder.Configuration).AddDashboard().AddOutgoingGrainCallFilter<TransientCallRetry>());
        builder.Services.AddOptions<AdminOptions>().Bind(builder.Configuration.GetSection("Admin"));
        return builder;
    }

    /// <summary>
    /// Configures clustering, the default grain storage, reminders, membership timings and the storage
    /// serializer from <paramref name="configuration"/>; the silo's start completes once its reminders are loaded
    /// (<see cref="ReminderServiceReadiness"/>). Test clusters call this from their silo configurator; ports and cluster
    /// ids they set afterwards win.
    /// </summary>
    public static ISiloBuilder ConfigureCryptoPay(this ISiloBuilder silo, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        var settings = OrleansSettings.Read(configuration);
        var membership = configuration.GetSection($"{OrleansSettings.Section}:Membership");
        membership.Bind(TunedMembership(new ClusterMembershipOptions())); // a malformed override throws now, not mid-start

        silo.Configure<ClusterMembershipOptions>(o => membership.Bind(TunedMembership(o)));
        silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = MinimumReminderPeriod);
        // For the dashboard of silos that add it (UseCryptoPayOrleans).
        silo.Configure<DashboardOptions>(o => o.CounterUpdateIntervalMs = settings.DashboardCounterIntervalSeconds * 1000);
        silo.Services.AddOptions<ReminderStartupOptions>();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, ReminderServiceReadiness>();
        silo.UseSystemTextJsonGrainStorageSerializer();
        if (settings.Postgres is not { } postgres)
        {
            silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
            silo.AddMemoryGrainStorageAsDefault();
            silo.UseInMemoryReminderService();
            return silo;
        }

        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = settings.ClusterId;
            o.ServiceId = settings.ServiceId;
        });
        // Orleans binds its own Orleans:Endpoints section (EndpointOptions) when present; test clusters set it per silo.
        if (!configuration.GetSection($"{OrleansSettings.Section}:Endpoints").Exists())
        {
            ConfigureEndpoints(silo, settings);
        }

        silo.Services.AddSingleton<IHostedService>(services =>
            ActivatorUtilities.CreateInstance<OrleansSchemaMigration>(services, postgres));
        var providers = ProviderConnectionString(postgres);
        silo.UseAdoNetClustering(o =>
        {
            o.Invariant = AdoNetInvariant;
            o.ConnectionString = providers;
        });
        silo.AddAdoNetGrainStorageAsDefault(o =>
        {
            o.Invariant = AdoNetInvariant;
            o.ConnectionString = providers;
        });
        silo.UseAdoNetReminderService(o =>
        {
            o.Invariant = AdoNetInvariant;
            o.ConnectionString = providers;
        });
        return silo;
    }

    /// <summary>
    /// An Orleans client of the cluster on ConnectionStrings:Postgres (<paramref name="settings"/> with
    /// <see cref="OrleansSettings.Postgres"/> set): it finds the silos' gateways in the ADO.NET membership of the same
    /// ClusterId and ServiceId, and never joins the cluster itself. Operator commands use it.
    /// </summary>
    public static IClientBuilder ConfigureCryptoPayClient(this IClientBuilder client, OrleansSettings settings)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(settings);
        var postgres = settings.Postgres ?? throw new SiloStartupException("An Orleans client needs ConnectionStrings:Postgres: the embedded default has no cluster to reach.");
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = settings.ClusterId;
            o.ServiceId = settings.ServiceId;
        });
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = AdoNetInvariant;
            o.ConnectionString = postgres;
        });
        StoreFailures.AllowNpgsqlExceptions(client.Services);
        return client;
    }

    /// <summary>
    /// Adds a grain storage named <paramref name="name"/> on the same store as the default one (memory, or
    /// ADO.NET on ConnectionStrings:Postgres), for <c>[PersistentState("state", name)]</c>.
    /// </summary>
    public static ISiloBuilder AddCryptoPayGrainStorage(this ISiloBuilder silo, string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return OrleansSettings.Read(configuration).Postgres is { } postgres
            ? silo.AddAdoNetGrainStorage(name, o =>
            {
                o.Invariant = AdoNetInvariant;
                o.ConnectionString = ProviderConnectionString(postgres);
            })
            : silo.AddMemoryGrainStorage(name);
    }

    /// <summary>
    /// Serves the Orleans Dashboard at /dashboard to holders of the operator admin key (Admin:ApiKey), sent as
    /// a bearer token, an x-api-key header or a basic-auth password (so a browser can prompt for it).
    /// </summary>
    public static RouteGroupBuilder MapCryptoPayDashboard(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var dashboard = endpoints.MapOrleansDashboard(DashboardPath);
        dashboard.AddEndpointFilter(OperatorAccess.RequireAdminKeyAsync);
        return dashboard;
    }

    /// <summary>
    /// The connection string the ADO.NET providers (clustering, grain storage, reminders) get: the operator's, with
    /// Npgsql's <c>No Reset On Close</c>. Npgsql otherwise resets the session (DISCARD ALL, a transaction of its own)
    /// every time a pooled connection is opened again, and the providers open one per operation while leaving no
    /// session state behind (no SET, no temporary tables, no LISTEN), so the reset bought nothing.
    /// </summary>
    public static string ProviderConnectionString(string postgres) =>
        new NpgsqlConnectionStringBuilder(postgres) { NoResetOnClose = true }.ConnectionString;

    private static void ConfigureEndpoints(ISiloBuilder silo, OrleansSettings settings)
    {
        if (settings.AdvertisedIPAddress is not { } advertised)
        {
            silo.ConfigureEndpoints(settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: true);
            return;
        }

        silo.Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = advertised;
            o.SiloPort = settings.SiloPort;
            o.GatewayPort = settings.GatewayPort;
            o.SiloListeningEndpoint = new IPEndPoint(IPAddress.Any, settings.SiloPort);
            o.GatewayListeningEndpoint = new IPEndPoint(IPAddress.Any, settings.GatewayPort);
        });
    }

    /// <summary>
    /// Failure detection for the targets in docs/ORLEANS.md: a killed silo's grains answer on a survivor
    /// within 10 s, a hung (SIGSTOP) silo's within 20 s.
    /// </summary>
    private static ClusterMembershipOptions TunedMembership(ClusterMembershipOptions o)
    {
        // Probe every ~1 s; an adaptive probe timeout stays within 0.5-3 s, so three missed probes take at most ~9 s.
        o.ProbeTimeout = TimeSpan.FromSeconds(1);
        o.MaxProbeTimeout = TimeSpan.FromSeconds(3);
        o.NumMissedProbesLimit = 3;
        // On by default, it drops every suspicion vote while the connection received a message within
        // MaxProbeTimeout x NumMissedProbesLimit: a hung process keeps its sockets open, which held
        // a SIGSTOP-ed silo alive for 60-90 s with the default timeouts.
        o.EnableConnectionLivenessCheck = false;
        o.NumVotesForDeathDeclaration = 2;
        // Votes only count together while fresh: a blip now and another in a minute must not add up.
        o.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(20);
        // Heartbeats in the table mark silos that stopped writing as stale, so their votes are not awaited.
        o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
        // Gossip spreads changes at once; the table read is the fallback when a gossip message is lost.
        o.TableRefreshTimeout = TimeSpan.FromSeconds(10);
        // Dead silos' rows go after a day (checked hourly) rather than a week: restarts add a row each.
        o.DefunctSiloExpiration = TimeSpan.FromDays(1);
        o.DefunctSiloCleanupPeriod = TimeSpan.FromHours(1);
        return o;
    }
}
