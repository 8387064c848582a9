using System.Net;
using CryptoPay.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace CryptoPay.OrleansTests.Hosting;

/// <summary>A bad Orleans setting stops start-up with the one line Program.cs prints, naming the key.</summary>
public sealed class OrleansSettingsTests
{
    [Theory]
    [InlineData("Orleans:SiloPort", "0", "Orleans:SiloPort must be a TCP port between 1 and 65535 (was 0)")]
    [InlineData("Orleans:GatewayPort", "70000", "Orleans:GatewayPort must be a TCP port between 1 and 65535 (was 70000)")]
    [InlineData("Orleans:SiloPort", "soon", "'soon' at 'Orleans:SiloPort'")]
    [InlineData("Orleans:GatewayPort", "11111", "Orleans:GatewayPort must differ from Orleans:SiloPort")]
    [InlineData("Orleans:ClusterId", "two words", "Orleans:ClusterId must be 1 to 150 letters")]
    [InlineData("Orleans:ServiceId", "", "Orleans:ServiceId must be 1 to 150 letters")]
    [InlineData("Orleans:AdvertisedAddress", "no-such-host.invalid", "Orleans:AdvertisedAddress 'no-such-host.invalid' is neither an IP address nor a host name that resolves")]
    [InlineData("Orleans:DashboardCounterIntervalSeconds", "0", "Orleans:DashboardCounterIntervalSeconds must be between 1 and 3600 (was 0)")]
    [InlineData("Orleans:Membership:ProbeTimeout", "soon", "'soon' at 'Orleans:Membership:ProbeTimeout'")]
    [InlineData("ConnectionStrings:Postgres", "this is not a connection string", "ConnectionStrings:Postgres is not a valid PostgreSQL connection string")]
    public void A_bad_setting_stops_start_up_with_one_line_naming_it(string key, string value, string expected)
    {
        var builder = Builder(new() { [key] = value });

        var error = Record.Exception(() => builder.UseCryptoPayOrleans());

        Assert.Contains(expected, OneLineReport(error));
    }

    [Fact]
    public async Task An_unreachable_database_stops_start_up_with_one_line()
    {
        var builder = Builder(new() { ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Username=postgres;Timeout=3" });
        builder.UseCryptoPayOrleans();
        using var host = builder.Build();

        var error = await Record.ExceptionAsync(() => host.StartAsync());

        Assert.Contains("cannot migrate the Orleans schema on ConnectionStrings:Postgres", OneLineReport(error));
    }

    [Fact]
    public void Settings_and_membership_overrides_reach_the_silo_options()
    {
        var builder = Builder(new()
        {
            ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Username=postgres",
            ["Orleans:SiloPort"] = "21111",
            ["Orleans:GatewayPort"] = "40000",
            ["Orleans:AdvertisedAddress"] = "127.0.0.1",
            ["Orleans:ClusterId"] = "cryptopay-eu.1",
            ["Orleans:ServiceId"] = "payments",
            ["Orleans:Membership:NumMissedProbesLimit"] = "4",
            ["Orleans:DashboardCounterIntervalSeconds"] = "10",
        });
        builder.UseCryptoPayOrleans();
        using var host = builder.Build();

        var endpoints = host.Services.GetRequiredService<IOptions<EndpointOptions>>().Value;
        var cluster = host.Services.GetRequiredService<IOptions<ClusterOptions>>().Value;
        var membership = host.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;
        Assert.Equal((21111, 40000, IPAddress.Loopback), (endpoints.SiloPort, endpoints.GatewayPort, endpoints.AdvertisedIPAddress));
        Assert.Equal(("cryptopay-eu.1", "payments"), (cluster.ClusterId, cluster.ServiceId));
        Assert.Equal(4, membership.NumMissedProbesLimit);
        Assert.Equal(TimeSpan.FromSeconds(1), membership.ProbeTimeout);
        Assert.False(membership.EnableConnectionLivenessCheck);
        Assert.Equal(OrleansHosting.MinimumReminderPeriod, host.Services.GetRequiredService<IOptions<ReminderOptions>>().Value.MinimumReminderPeriod);
        Assert.Equal(10_000, host.Services.GetRequiredService<IOptions<Orleans.Dashboard.DashboardOptions>>().Value.CounterUpdateIntervalMs);
    }

    [Fact]
    public void The_ado_net_providers_connect_without_a_session_reset_on_each_pooled_open()
    {
        // Npgsql resets a pooled connection's session (DISCARD ALL, one more transaction) whenever it is opened again;
        // the providers leave no session state behind, so every open of theirs would pay for nothing.
        var builder = Builder(new() { ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Port=1;Username=postgres;Database=cp" });
        builder.UseOrleans(silo => silo.ConfigureCryptoPay(builder.Configuration).AddCryptoPayGrainStorage("extra", builder.Configuration));
        using var host = builder.Build();

        var strings = new[]
        {
            host.Services.GetRequiredService<IOptions<AdoNetClusteringSiloOptions>>().Value.ConnectionString,
            host.Services.GetRequiredService<IOptions<AdoNetReminderTableOptions>>().Value.ConnectionString,
            host.Services.GetRequiredService<IOptionsMonitor<AdoNetGrainStorageOptions>>().Get(Orleans.Providers.ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME).ConnectionString,
            host.Services.GetRequiredService<IOptionsMonitor<AdoNetGrainStorageOptions>>().Get("extra").ConnectionString,
        };

        Assert.All(strings, s =>
        {
            var parsed = new Npgsql.NpgsqlConnectionStringBuilder(s);
            Assert.True(parsed.NoResetOnClose, s);
            Assert.Equal(("127.0.0.1", "cp"), (parsed.Host, parsed.Database));
        });
    }

    private static HostApplicationBuilder Builder(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }

    private static string OneLineReport(Exception? error)
    {
        Assert.NotNull(error);
        Assert.True(SiloStartupFailure.IsStartupFailure(error), $"not reported as a start-up failure: {error}");
        var stderr = new StringWriter();
        SiloStartupFailure.Report(error, stderr);
        return Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
