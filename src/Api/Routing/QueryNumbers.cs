using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace CryptoPay.Api.Routing;

/// <summary>Integer query parameters (page, page_size, limit) as every list reads them.</summary>
public static class QueryNumbers
{
    /// <summary>Page numbers go this high.</summary>
    public const int MaxPage = 1_000_000;

    /// <summary>
    /// The parameter as an integer from 1 to <paramref name="max"/>; <paramref name="fallback"/> when absent or refused,
    /// a refusal recorded in <paramref name="errors"/> under its name.
    /// </summary>
    public static int Read(IQueryCollection query, string name, int fallback, int max, IDictionary<string, string[]> errors)
    {
        var text = query[name].ToString();
        if (text.Length == 0)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1 || value > max)
        {
            errors[name] = [$"must be an integer from 1 to {max}."];
            return fallback;
        }

        return value;
    }
}
