using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using CryptoPay.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CryptoPay.Grains.Rates;

/// <summary>Prices of one unit of each currency in USD, as of a time.</summary>
public sealed record RateSnapshot(IReadOnlyDictionary<string, decimal> UsdPrices, DateTimeOffset AsOf)
{
    /// <summary>Price of one <paramref name="asset"/> in <paramref name="currency"/>; null when either is unknown.</summary>
    public decimal? Price(string asset, string currency) =>
        UsdPrices.TryGetValue(asset, out var assetUsd) && UsdPrices.TryGetValue(currency, out var currencyUsd) && currencyUsd > 0
            ? assetUsd / currencyUsd
            : null;
}

public interface IRateProvider
{
    /// <summary>The latest known rates (possibly old: the caller judges staleness by <see cref="RateSnapshot.AsOf"/>); null when none is known.</summary>
    Task<RateSnapshot?> GetAsync(CancellationToken ct);
}

public sealed class RateOptions
{
    /// <summary>"static" (the table below) or "http" (a JSON endpoint at <see cref="Url"/>).</summary>
    public string Source { get; set; } = "static";

    public Uri? Url { get; set; }

    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Older rates are stale: fiat-priced invoices are refused with 503 RATES_UNAVAILABLE.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>USD price of one unit of each currency; entries from configuration replace these defaults.</summary>
    public Dictionary<string, decimal> UsdPrices { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["USD"] = 1m, ["EUR"] = 1.08m, ["GBP"] = 1.27m, ["CHF"] = 1.12m, ["CAD"] = 0.73m, ["AUD"] = 0.66m, ["JPY"] = 0.0067m,
        ["BTC"] = 60000m, ["LTC"] = 80m, ["ETH"] = 3000m, ["BNB"] = 600m, ["USDT"] = 1m, ["USDC"] = 1m,
    };

    public void Validate()
    {
        if (Source is not ("static" or "http"))
        {
            throw new InvalidOperationException($"Rates:Source must be 'static' or 'http' (was '{Source}').");
        }

        if (Source == "http" && Url is null)
        {
            throw new InvalidOperationException("Rates:Url is required when Rates:Source is 'http'.");
        }

        if (MaxAge <= TimeSpan.Zero || CacheFor <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Rates:MaxAge and Rates:CacheFor must be positive.");
        }

        if (UsdPrices.Any(p => p.Value <= 0))
        {
            throw new InvalidOperationException("Every Rates:UsdPrices entry must be positive.");
        }
    }
}

/// <summary>The configured table: always current.</summary>
public sealed class StaticRateProvider(IOptions<RateOptions> options, [FromKeyedServices(GatewayClock.Key)] TimeProvider time) : IRateProvider
{
    private readonly Dictionary<string, decimal> prices = new(options.Value.UsdPrices, StringComparer.OrdinalIgnoreCase);

    public Task<RateSnapshot?> GetAsync(CancellationToken ct) => Task.FromResult<RateSnapshot?>(new RateSnapshot(prices, time.GetUtcNow()));
}

/// <summary>
/// Rates from a JSON endpoint answering <c>{"rates": {"BTC": "60000.12", …}}</c> (USD per unit), cached
/// for <see cref="RateOptions.CacheFor"/>; when a refresh fails the last rates stay, ageing towards stale.
/// </summary>
public sealed class HttpRateProvider(HttpClient http, IOptions<RateOptions> options, [FromKeyedServices(GatewayClock.Key)] TimeProvider time, ILogger<HttpRateProvider> logger) : IRateProvider
{
    private readonly SemaphoreSlim refresh = new(1, 1);
    private RateSnapshot? cached;
    private DateTimeOffset lastAttempt = DateTimeOffset.MinValue;

    public async Task<RateSnapshot?> GetAsync(CancellationToken ct)
    {
        if (time.GetUtcNow() - lastAttempt < options.Value.CacheFor)
        {
            return cached;
        }

        await refresh.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (time.GetUtcNow() - lastAttempt >= options.Value.CacheFor)
            {
                lastAttempt = time.GetUtcNow();
                cached = await FetchAsync(ct).ConfigureAwait(false) ?? cached;
            }

            return cached;
        }
        finally
        {
            refresh.Release();
        }
    }

    private async Task<RateSnapshot?> FetchAsync(CancellationToken ct)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var document = await http.GetFromJsonAsync<JsonDocument>(options.Value.Url, timeout.Token).ConfigureAwait(false);
            var prices = new Dictionary<string, decimal>(StringComparer.OrdinalIgnoreCase) { ["USD"] = 1m };
            foreach (var rate in document!.RootElement.GetProperty("rates").EnumerateObject())
            {
                var text = rate.Value.ValueKind == JsonValueKind.String ? rate.Value.GetString() : rate.Value.GetRawText();
                if (decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var price) && price > 0)
                {
                    prices[rate.Name.ToUpperInvariant()] = price;
                }
            }

            return new RateSnapshot(prices, time.GetUtcNow());
        }
        catch (Exception error) when (error is HttpRequestException or JsonException or OperationCanceledException or KeyNotFoundException or InvalidOperationException)
        {
            logger.LogWarning("Rate refresh from {Url} failed: {Reason}", options.Value.Url, error.Message);
            return null;
        }
    }
}
