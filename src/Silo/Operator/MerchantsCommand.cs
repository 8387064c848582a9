using CryptoPay.Api.Merchants;
using CryptoPay.Runtime.Storage.Memory;
using CryptoPay.Silo.Gateway;
using RuntimeSilo = CryptoPay.Runtime.Silo;

namespace CryptoPay.Silo.Operator;

/// <summary><c>merchants create --name "Shop" [--reporting-currency EUR]</c>: creates a merchant and prints its first live and test keys.</summary>
public static class MerchantsCommand
{
    public const int UsageError = 2;

    public static bool Handles(string[] args) => args.Length > 0 && args[0] == "merchants";

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        var name = Option(args, "--name");
        if (args.Length < 2 || args[1] != "create" || string.IsNullOrWhiteSpace(name))
        {
            await error.WriteLineAsync("usage: merchants create --name \"Shop\" [--reporting-currency USD]");
            return UsageError;
        }

        var builder = WebApplication.CreateBuilder([.. args.Where(a => a.StartsWith("--", StringComparison.Ordinal) && a.Contains('=', StringComparison.Ordinal))]);
        builder.Logging.ClearProviders();
        builder.AddCryptoPayGateway(hostOrleans: false);
        await using var app = builder.Build();
        var silo = app.Services.GetRequiredService<RuntimeSilo>();
        if (silo.Store is MemoryGrainStore)
        {
            await error.WriteLineAsync(
                "merchants create: no database is configured, so the merchant would vanish when this command exits.\n" +
                "Set ConnectionStrings__Postgres (e.g. ConnectionStrings__Postgres=\"Host=localhost;Username=cryptopay;Password=…;Database=cryptopay\") and run it again,\n" +
                "or start the silo with Admin__ApiKey set and create the merchant over HTTP: POST /v1/merchants.");
            return UsageError;
        }

        await silo.StartAsync(CancellationToken.None);
        try
        {
            var currency = Option(args, "--reporting-currency") ?? "USD";
            var created = await app.Services.GetRequiredService<MerchantOnboarding>().CreateAsync(name, currency.ToUpperInvariant(), null, null);
            await output.WriteLineAsync($"merchant_id: {created.Merchant.Id}");
            foreach (var key in created.Keys)
            {
                await output.WriteLineAsync($"{key.Mode}_key: {key.Key}");
            }

            await output.WriteLineAsync("Keep the keys now: they are stored hashed and cannot be shown again.");
            return 0;
        }
        finally
        {
            await silo.StopAsync(CancellationToken.None);
        }
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
