using System.Globalization;
using CryptoPay.Grains.Catalog;

namespace CryptoPay.Api.Checkout;

/// <summary>
/// How the checkout page shows a crypto amount to a person: at most <see cref="SignificantDigits"/> significant digits
/// (never dropping whole units), within the asset's decimals, rounded up, so the figure shown is never less than what is
/// due. The copy button and the payment URI carry the exact amount.
/// </summary>
public static class CheckoutAmounts
{
    public const int SignificantDigits = 8;

    public static string Display(decimal amount, int decimals)
    {
        var places = Math.Min(decimals, DecimalsForSignificantDigits(amount));
        return Amounts.RoundUp(amount, places).ToString("F" + places.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
    }

    private static int DecimalsForSignificantDigits(decimal amount)
    {
        if (amount == 0)
        {
            return SignificantDigits;
        }

        var text = Math.Abs(amount).ToString(CultureInfo.InvariantCulture);
        var point = text.IndexOf('.', StringComparison.Ordinal);
        var wholeDigits = point < 0 ? text.Length : point;
        return text[0] != '0'
            ? Math.Max(0, SignificantDigits - wholeDigits)
            : text.AsSpan(point + 1).IndexOfAnyExcept('0') + SignificantDigits;
    }
}
