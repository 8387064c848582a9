using System.Globalization;
using CryptoPay.Api.Access;
using CryptoPay.Api.Errors;
using CryptoPay.Grains.Catalog;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace CryptoPay.Api.Rates;

public sealed record CurrencyResponse(string Code, int Decimals, string Kind);

public sealed record PaymentMethodCatalogResponse(string Method, string Asset, string Network, int Decimals, string Minimum, int ConfirmationsRequired);

public sealed record CurrenciesResponse(IReadOnlyList<CurrencyResponse> Currencies, IReadOnlyList<string> Networks, IReadOnlyList<PaymentMethodCatalogResponse> PaymentMethods);

public sealed record RatesResponse(string Base, IReadOnlyDictionary<string, string> Rates, DateTimeOffset AsOf, bool Stale);

/// <summary>Public catalog and rates.</summary>
public static class RateEndpoints
{
    public static IEndpointRouteBuilder MapRates(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1").WithTags("Public");
        group.MapGet("/currencies", Currencies).Public();
        group.MapGet("/rates", RatesAsync).Public();
        return endpoints;
    }

    private static Ok<CurrenciesResponse> Currencies() => TypedResults.Ok(new CurrenciesResponse(
        [.. Assets.Currencies.Select(c => new CurrencyResponse(c.Code, c.Decimals, c.IsFiat ? "fiat" : "crypto"))],
        Assets.NetworkIds,
        [.. Assets.Methods.Select(m => new PaymentMethodCatalogResponse(m.Id, m.Asset, m.Network, m.Decimals, m.Minimum.ToString(CultureInfo.InvariantCulture), m.Confirmations))]));

    /// <summary>Price of one unit of each currency in <c>base</c>.</summary>
    private static async Task<Results<Ok<RatesResponse>, ProblemHttpResult>> RatesAsync(HttpContext context, IRateProvider rates, TimeProvider time, IOptions<RateOptions> options)
    {
        var requested = context.Request.Query["base"].ToString();
        var baseCurrency = Assets.FindCurrency(requested.Length == 0 ? "USD" : requested);
        if (baseCurrency is null)
        {
            return ApiProblem.Invalid("base", $"'{requested}' is not a supported currency.", ErrorCodes.UnsupportedCurrency);
        }

        var snapshot = await rates.GetAsync(context.RequestAborted);
        if (snapshot is null || snapshot.Price(baseCurrency.Code, "USD") is null)
        {
            return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, ErrorCodes.RatesUnavailable, "No exchange rates are known.");
        }

        var table = Assets.Currencies
            .Select(c => (c.Code, Price: snapshot.Price(c.Code, baseCurrency.Code)))
            .Where(r => r.Price is not null)
            .ToDictionary(r => r.Code, r => decimal.Round(r.Price!.Value, 12).ToString(CultureInfo.InvariantCulture));
        return TypedResults.Ok(new RatesResponse(baseCurrency.Code, table, snapshot.AsOf, time.GetUtcNow() - snapshot.AsOf > options.Value.MaxAge));
    }
}
