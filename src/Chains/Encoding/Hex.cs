namespace CryptoPay.Chains.Encoding;

/// <summary>Lowercase hexadecimal, the form chain RPCs and test vectors use.</summary>
public static class Hex
{
    public static string Encode(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(data);

    public static byte[] Decode(string hex)
    {
        var digits = hex.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? hex.AsSpan(2) : hex.AsSpan();
        return Convert.FromHexString(digits);
    }

    public static bool IsHexDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
