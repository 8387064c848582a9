using System.Globalization;
using System.Numerics;

namespace CryptoPay.Chains.Rpc;

/// <summary>
/// Ethereum JSON-RPC "quantities": 0x-prefixed big-endian hex without leading zeros ("0x0", "0x1bc16d674ec80000").
/// Converted to and from <see cref="BigInteger"/> exactly, since wei amounts overflow every fixed-size integer.
/// </summary>
public static class HexQuantity
{
    public static BigInteger Parse(string quantity)
    {
        ArgumentNullException.ThrowIfNull(quantity);
        if (!quantity.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || quantity.Length < 3)
        {
            throw new FormatException($"'{quantity}' is not a 0x-prefixed hex quantity");
        }

        // The leading 0 keeps BigInteger from reading a first digit ≥ 8 as a sign bit.
        return BigInteger.Parse("0" + quantity.AsSpan(2).ToString(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
    }

    public static long ParseInt64(string quantity) => (long)Parse(quantity);

    public static string Format(BigInteger value)
    {
        if (value.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "Quantities are never negative.");
        }

        var digits = value.ToString("x", CultureInfo.InvariantCulture).TrimStart('0');
        return "0x" + (digits.Length == 0 ? "0" : digits);
    }

    /// <summary>An unsigned big-endian byte string (a 32-byte ABI word, log data) as a number.</summary>
    public static BigInteger FromBigEndian(ReadOnlySpan<byte> bytes) => new(bytes, isUnsigned: true, isBigEndian: true);
}
