using System.Globalization;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace CryptoPay.Chains.Rpc;

/// <summary>
/// Bitcoin Core prints amounts as JSON numbers in whole coins with 8 decimals ("0.00100000"). The client reads
/// output values from the transaction bytes (NBitcoin's <see cref="NBitcoin.Money"/>, exact); this is the fallback for
/// a transaction NBitcoin cannot decode (Litecoin MWEB), where only the JSON number is left.
/// </summary>
public static class BitcoinAmount
{
    private const decimal UnitsPerCoin = 100_000_000m;

    // Below 2^26 coins a double's spacing is under one satoshi, so the shortest text that reads back as the same double
    // is the node's own 8-decimal number: exact. Above it (no Bitcoin output ever; a 67M LTC one) two amounts could meet.
    private const decimal ExactBelowCoins = 67_108_864m;

    /// <summary>The JSON number (in coins) as an exact count of satoshis/litoshis.</summary>
    /// <exception cref="FormatException">Not a number, finer than one satoshi, or too long to have survived the JSON parser exactly.</exception>
    public static long ToSatoshis(JToken coins)
    {
        ArgumentNullException.ThrowIfNull(coins);
        if (coins.Type is not (JTokenType.Float or JTokenType.Integer))
        {
            throw new FormatException($"an amount must be a JSON number, not {coins.Type}");
        }

        var text = coins.ToString(Formatting.None);
        var satoshis = ToSatoshis(text);
        if (Math.Abs(satoshis) >= ExactBelowCoins * UnitsPerCoin)
        {
            throw new FormatException($"amount {text} is too large to be read exactly from a JSON number");
        }

        return satoshis;
    }

    private static long ToSatoshis(string coins)
    {
        var value = decimal.Parse(coins, NumberStyles.Float, CultureInfo.InvariantCulture);
        var units = value * UnitsPerCoin;
        if (units != decimal.Truncate(units))
        {
            throw new FormatException($"amount {coins} is not a whole number of satoshis");
        }

        return decimal.ToInt64(units);
    }
}
