using System.Globalization;
using System.Numerics;

namespace CryptoPay.Grains.Catalog;

/// <summary>Exact conversions between decimal amounts and integer smallest units.</summary>
public static class Amounts
{
    public static BigInteger ToUnits(decimal amount, int decimals)
    {
        var text = decimal.Round(amount, Math.Min(decimals, 28), MidpointRounding.ToZero).ToString("F" + Math.Min(decimals, 28).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var point = text.IndexOf('.', StringComparison.Ordinal);
        var whole = point < 0 ? text : text[..point];
        var fraction = point < 0 ? "" : text[(point + 1)..];
        return BigInteger.Parse(whole + fraction.PadRight(decimals, '0'), CultureInfo.InvariantCulture);
    }

    public static decimal FromUnits(BigInteger units, int decimals)
    {
        var negative = units.Sign < 0;
        var digits = BigInteger.Abs(units).ToString(CultureInfo.InvariantCulture).PadLeft(decimals + 1, '0');
        var text = decimals == 0 ? digits : digits[..^decimals] + "." + digits[^decimals..];
        var value = decimal.Parse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        return negative ? -value : value;
    }

    /// <summary>Rounds up to the given decimals, so a customer never pays less than the price.</summary>
    public static decimal RoundUp(decimal amount, int decimals) =>
        decimal.Round(amount, Math.Min(decimals, 28), MidpointRounding.ToPositiveInfinity);

    /// <summary>Number of digits after the decimal point that carry a value.</summary>
    public static int Scale(decimal amount)
    {
        var text = amount.ToString(CultureInfo.InvariantCulture);
        var point = text.IndexOf('.', StringComparison.Ordinal);
        return point < 0 ? 0 : text.TrimEnd('0').Length - point - 1;
    }

    public static string Format(decimal amount, int decimals) =>
        decimal.Round(amount, Math.Min(decimals, 28), MidpointRounding.ToZero).ToString("F" + Math.Min(decimals, 28).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}
