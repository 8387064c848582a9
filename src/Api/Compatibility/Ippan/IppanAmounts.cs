using System.Globalization;
using System.Numerics;
using System.Text.Json;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Json;
using CryptoPay.Grains.Catalog;

namespace CryptoPay.Api.Compatibility.Ippan;

/// <summary>
/// ippan.txt's amounts: integers of the currency's minor unit (<c>"amount": 9900</c> USDC is 99.00 USDC). The minor
/// unit is the cent for fiat (ISO 4217: JPY has none) and for the stablecoins USDC and USDT, as the document's examples
/// read; the satoshi (8 decimals) for BTC and LTC; the gwei (9 decimals) for ETH and BNB, so amounts stay JSON integers
/// every client reads exactly (wei would pass 2^53 at 0.009 ETH). Conversions are exact decimal arithmetic.
/// </summary>
public static class IppanAmounts
{
    /// <summary>Most digits a minor-unit amount may have: far beyond any invoice, well inside <see cref="decimal"/>.</summary>
    private const int MaxDigits = 24;

    /// <summary>Decimals of the currency's minor unit; null for a currency we do not know (the core then refuses it).</summary>
    public static int? Exponent(string? currency) => currency?.ToUpperInvariant() switch
    {
        null => null,
        "USDC" or "USDT" => 2,
        "ETH" or "BNB" => 9,
        var code => Assets.FindCurrency(code)?.Decimals,
    };

    /// <summary>The amount in the currency's units (what /v1 bodies carry) of <paramref name="minor"/> minor units.</summary>
    public static decimal ToMajor(BigInteger minor, int exponent) => (decimal)minor / Pow10(exponent);

    /// <summary>
    /// The minor units of <paramref name="amount"/>, as an integer whenever the amount is a whole number of minor units
    /// (always for objects created here); an amount finer than the minor unit (a 6-decimal USDC invoice made through
    /// /v1) keeps its fraction rather than being rounded.
    /// </summary>
    public static decimal ToMinor(decimal amount, int exponent) => Normalize(amount * Pow10(exponent));

    /// <summary>The minor units of <paramref name="units"/> smallest on-chain units of an asset with <paramref name="decimals"/>.</summary>
    public static decimal ToMinor(BigInteger units, int decimals, int exponent) => ToMinor((decimal)units / Pow10(decimals), exponent);

    /// <summary>
    /// Reads the minor-unit integer <paramref name="name"/> of <paramref name="owner"/> as the decimal string /v1 expects
    /// (<paramref name="exponent"/> null: the currency is unknown and the core will say so; the number passes unscaled).
    /// A string, a fraction, an exponent or a sign is INVALID_AMOUNT_FORMAT on <paramref name="path"/>.
    /// </summary>
    public static string? Read(JsonBody body, JsonElement owner, string name, string path, int? exponent, bool required)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                body.Fail(path, "is required: an integer number of minor units (9900 USDC is 99.00).");
            }

            return null;
        }

        var raw = value.ValueKind == JsonValueKind.Number ? value.GetRawText() : "";
        if (raw.Length == 0 || !raw.All(char.IsAsciiDigit))
        {
            body.Fail(path, "must be an integer number of minor units, e.g. 9900 for 99.00 USDC.", ErrorCodes.InvalidAmountFormat);
            return null;
        }

        if (raw.TrimStart('0').Length > MaxDigits)
        {
            body.Fail(path, "is beyond any amount this gateway accepts.", ErrorCodes.InvalidAmountRange);
            return null;
        }

        var minor = BigInteger.Parse(raw, CultureInfo.InvariantCulture);
        return (exponent is { } e ? ToMajor(minor, e) : (decimal)minor).ToString(CultureInfo.InvariantCulture);
    }

    private static decimal Pow10(int exponent)
    {
        var power = 1m;
        for (var i = 0; i < exponent; i++)
        {
            power *= 10m;
        }

        return power;
    }

    /// <summary>The same value with no trailing fraction zeros, so 9900.00 is written 9900.</summary>
    private static decimal Normalize(decimal value) => value / 1.0000000000000000000000000000m;
}
