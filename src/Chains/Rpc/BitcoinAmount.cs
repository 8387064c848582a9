using System.Globalization;
using System.Text.Json;

namespace CryptoPay.Chains.Rpc;

/// <summary>
/// Bitcoin Core prints amounts as JSON numbers in whole coins with 8 decimals ("0.00100000"). They are read from the
/// raw JSON text into <see cref="decimal"/> and scaled to satoshis, so no binary floating point ever touches money.
/// </summary>
public static class BitcoinAmount
{
    private const decimal UnitsPerCoin = 100_000_000m;

    /// <summary>The JSON number (in coins) as an exact count of satoshis/litoshis.</summary>
    /// <exception cref="FormatException">Not a number, or finer than one satoshi.</exception>
    public static long ToSatoshis(JsonElement coins)
    {
        if (coins.ValueKind != JsonValueKind.Number)
        {
            throw new FormatException($"an amount must be a JSON number, not {coins.ValueKind}");
        }

        return ToSatoshis(coins.GetRawText());
    }

    /// <summary>A decimal amount in coins ("0.001", "1e-05") as an exact count of satoshis.</summary>
    public static long ToSatoshis(string coins)
    {
        var value = decimal.Parse(coins, NumberStyles.Float, CultureInfo.InvariantCulture);
        var units = value * UnitsPerCoin;
        if (units != decimal.Truncate(units))
        {
            throw new FormatException($"amount {coins} is not a whole number of satoshis");
        }

        return decimal.ToInt64(units);
    }

    /// <summary>Satoshis as the decimal coin amount Bitcoin Core expects in sendtoaddress and sendmany.</summary>
    public static decimal ToCoins(long satoshis) => satoshis / UnitsPerCoin;
}
