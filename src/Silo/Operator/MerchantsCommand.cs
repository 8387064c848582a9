using CryptoPay.Api.Merchants;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Silo.Hosting;
using Npgsql;

namespace CryptoPay.Silo.Operator;

/// <summary>
/// <c>merchants create --name "Shop" [--reporting-currency EUR] [--key-format pepay]</c>: creates a merchant and prints its first
/// live and test keys, in our format or a compatibility profile's.
/// It reaches the cluster on ConnectionStrings:Postgres as an Orleans client, so a silo must be running; it never joins as one.
/// </summary>
public static class MerchantsCommand
{
    public const int UsageError = 2;

    /// <summary>How long the command waits for a silo's gateway to accept it.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);

    private const int ConnectAttempts = 3;

    public static bool Handles(string[] args) => args.Length > 0 && args[0] == "merchants";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var name = Option(args, "--name");
        var keyFormat = Option(args, "--key-format") ?? KeyFormats.CryptoPay;
        if (args.Length < 2 || args[1] != "create" || string.IsNullOrWhiteSpace(name) || !KeyFormats.All.Contains(keyFormat, StringComparer.Ordinal))
        {
            await error.WriteLineAsync($"usage: merchants create --name \"Shop\" [--reporting-currency USD] [--key-format {string.Join("|", KeyFormats.All)}]");
            return UsageError;
        }

        var builder = Host.CreateApplicationBuilder([.. args.Where(a => a.StartsWith("--", StringComparison.Ordinal) && a.Contains('=', StringComparison.Ordinal))]);
        builder.Logging.ClearProviders();
        var settings = OrleansSettings.Read(builder.Configuration);
        if (settings.Postgres is null)
        {
            await error.WriteLineAsync(
                "merchants create: no database is configured, so the merchant would vanish when this command exits.\n" +
                "Set ConnectionStrings__Postgres (e.g. ConnectionStrings__Postgres=\"Host=localhost;Username=cryptopay;Password=…;Database=cryptopay\") and run it again,\n" +
                "or start the silo with Admin__ApiKey set and create the merchant over HTTP: POST /v1/merchants.");
            return UsageError;
        }

        var attempts = 0;
        builder.UseOrleansClient(client => client
            .ConfigureCryptoPayClient(settings)
            // A couple of quick retries ride out a gateway that is just going away; Orleans' own default would retry for long.
            .UseConnectionRetryFilter(async (_, ct) =>
            {
                if (++attempts >= ConnectAttempts)
                {
                    return false;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                return true;
            }));
        builder.Services.AddSingleton<MerchantOnboarding>();
        using var host = builder.Build();
        try
        {
            await host.StartAsync().WaitAsync(ConnectTimeout);
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            await error.WriteLineAsync(
                $"merchants create: no silo of cluster '{settings.ClusterId}' is reachable through ConnectionStrings:Postgres ({WhyUnreachable(failure)}); " +
                "start a silo (dotnet CryptoPay.Silo.dll) with the same ConnectionStrings__Postgres, Orleans__ClusterId and Orleans__ServiceId, then run this command again.");
            return UsageError;
        }

        try
        {
            var currency = Option(args, "--reporting-currency") ?? "USD";
            var created = await host.Services.GetRequiredService<MerchantOnboarding>().CreateAsync(name, currency.ToUpperInvariant(), null, null, keyFormat: keyFormat);
            await output.WriteLineAsync($"merchant_id: {created.Merchant.Id}");
            foreach (var key in created.Keys)
            {
                await output.WriteLineAsync($"{key.Mode}_key: {key.Key}");
            }

            await output.WriteLineAsync("Keep the keys now: they are stored hashed and cannot be shown again.");
            return 0;
        }
        catch (Exception failure) when (failure is TimeoutException or OrleansException)
        {
            // A silo went away mid-command: the merchant may exist without its keys; the operator issues them over HTTP.
            await error.WriteLineAsync($"merchants create: the cluster did not finish creating the merchant ({SiloStartupFailure.Describe(failure)}); run this command again.");
            return 1;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    private static string WhyUnreachable(Exception failure) => failure switch
    {
        SiloUnavailableException => "none is running",
        TimeoutException => $"none answered within {ConnectTimeout.TotalSeconds:0} s",
        PostgresException { SqlState: PostgresErrorCodes.UndefinedTable } => "no silo has run on this database yet",
        _ when failure.InnerException is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable } => "no silo has run on this database yet",
        _ => SiloStartupFailure.Describe(failure),
    };

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
