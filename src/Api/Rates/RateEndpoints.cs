using System.Globalization;
using CryptoPay.Api.Access;
using CryptoPay.Api.Docs;
using CryptoPay.Api.Errors;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Rates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CryptoPay.Api.Rates;

public sealed record CurrencyResponse(string Code, int Decimals, string Kind);

/// <summary>A payment method: its mode (live methods run on real chains, test ones on the sandbox), whether this gateway offers it, and for tokens the contract.</summary>
public sealed record PaymentMethodCatalogResponse(
    string Method, string Asset, string Network, int Decimals, string Minimum, int ConfirmationsRequired, string Mode, bool Enabled, string? TokenContract);

public sealed record CurrenciesResponse(string? Mode, IReadOnlyList<CurrencyResponse> Currencies, IReadOnlyList<string> Networks, IReadOnlyList<PaymentMethodCatalogResponse> PaymentMethods);

/// <summary>The price of one unit of each currency in <see cref="Base"/>, as of when the provider quoted them.</summary>
public sealed record RateTable(string Base, IReadOnlyDictionary<string, decimal> Prices, DateTimeOffset AsOf, bool Stale);

public sealed record RatesResponse(string Base, IReadOnlyDictionary<string, string> Rates, DateTimeOffset AsOf, bool Stale);

/// <summary>Public catalog and rates.</summary>
public static class RateEndpoints
{
    public static IEndpointRouteBuilder MapRates(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1").WithTags("Currencies and rates");
        group.MapGet("/currencies", Currencies).Public()
            .WithSummary("List currencies and payment methods")
            .WithDescription("Currencies, networks and payment methods with decimals, minimums and confirmations required. For one mode " +
                "(`mode`, or the mode of a key sent along, which is not checked) only what that mode can use; else every method, marked enabled or not.")
            .Query("mode", "The mode to list for.", values: ["live", "test"]);
        group.MapGet("/rates", RatesAsync).Public()
            .WithSummary("Get exchange rates")
            .WithDescription("Current rates from the configured provider: how much of each currency one unit of `base` buys.")
            .Query("base", "The currency rates are quoted against.", @default: "USD")
            .Problem(StatusCodes.Status400BadRequest, "UNSUPPORTED_CURRENCY: `base` is not a supported currency.")
            .Problem(StatusCodes.Status503ServiceUnavailable, "RATES_UNAVAILABLE: the rate provider has no rates.");
        return endpoints;
    }

    /// <summary>
    /// The catalog. For one mode (<c>?mode=live|test</c>, or the mode of an API key sent along: the key is not checked,
    /// its prefix only picks the view) it lists what that mode can use: live methods configured on this gateway, with
    /// the operator's confirmations, or the sandbox's. Without a mode it lists every method, each marked enabled or not.
    /// </summary>
    private static Results<Ok<CurrenciesResponse>, ProblemHttpResult> Currencies(HttpContext context, LiveNetworks live)
    {
        var modeText = context.Request.Query["mode"].ToString();
        Mode? mode = modeText switch
        {
            "live" => Mode.Live,
            "test" => Mode.Test,
            "" => context.Request.PresentedKey() switch
            {
                { } key when key.StartsWith(ApiKeySecret.LivePrefix, StringComparison.Ordinal) => Mode.Live,
                { } key when key.StartsWith(ApiKeySecret.TestPrefix, StringComparison.Ordinal) => Mode.Test,
                _ => null,
            },
            _ => null,
        };
        if (modeText.Length > 0 && mode is null)
        {
            return ApiProblem.Invalid("mode", $"'{modeText}' is not a mode; use live or test.");
        }

        var methods = Assets.Methods
            .Select(m => (Method: m, Mode: m.IsSandbox ? Mode.Test : Mode.Live))
            .Where(m => mode is null || (m.Mode == mode && live.Offers(m.Method, m.Mode)))
            .Select(m => new PaymentMethodCatalogResponse(
                m.Method.Id, m.Method.Asset, m.Method.Network, m.Method.Decimals, m.Method.Minimum.ToString(CultureInfo.InvariantCulture),
                live.RequiredConfirmations(m.Method, null), LedgerKeys.ModeName(m.Mode), live.Offers(m.Method, m.Mode), live.TokenContract(m.Method.Network, m.Method.Asset)))
            .ToList();
        return TypedResults.Ok(new CurrenciesResponse(
            mode is { } chosen ? LedgerKeys.ModeName(chosen) : null,
            [.. Assets.Currencies.Select(c => new CurrencyResponse(c.Code, c.Decimals, c.IsFiat ? "fiat" : "crypto"))],
            mode is null ? Assets.NetworkIds : [.. methods.Select(m => m.Network).Distinct()],
            methods));
    }

    /// <summary>Price of one unit of each currency in <c>base</c>.</summary>
    private static async Task<Results<Ok<RatesResponse>, ProblemHttpResult>> RatesAsync(HttpContext context, IRateProvider rates, [FromKeyedServices(GatewayClock.Key)] TimeProvider time, IOptions<RateOptions> options)
    {
        var (table, problem) = await RateTableAsync(context.Request.Query["base"].ToString(), "USD", rates, time, options.Value, context.RequestAborted);
        return table is null
            ? problem!
            : TypedResults.Ok(new RatesResponse(table.Base, table.Prices.ToDictionary(r => r.Key, r => r.Value.ToString(CultureInfo.InvariantCulture)), table.AsOf, table.Stale));
    }

    /// <summary>
    /// The price of one unit of each known currency in <paramref name="requestedBase"/> (<paramref name="defaultBase"/> when
    /// empty), rounded to 12 decimals; or the problem: an unknown base (400), no rates (503).
    /// </summary>
    public static async Task<(RateTable? Table, ProblemHttpResult? Problem)> RateTableAsync(
        string requestedBase, string defaultBase, IRateProvider rates, TimeProvider time, RateOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rates);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(options);
        var baseCurrency = Assets.FindCurrency(string.IsNullOrEmpty(requestedBase) ? defaultBase : requestedBase);
        if (baseCurrency is null)
        {
            return (null, ApiProblem.Invalid("base", $"'{requestedBase}' is not a supported currency.", ErrorCodes.UnsupportedCurrency));
        }

        var snapshot = await rates.GetAsync(ct);
        if (snapshot is null || snapshot.Price(baseCurrency.Code, "USD") is null)
        {
            return (null, ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, ErrorCodes.RatesUnavailable, "No exchange rates are known."));
        }

        var prices = Assets.Currencies
            .Select(c => (c.Code, Price: snapshot.Price(c.Code, baseCurrency.Code)))
            .Where(r => r.Price is not null)
            .ToDictionary(r => r.Code, r => decimal.Round(r.Price!.Value, 12));
        return (new RateTable(baseCurrency.Code, prices, snapshot.AsOf, time.GetUtcNow() - snapshot.AsOf > options.MaxAge), null);
    }
}
