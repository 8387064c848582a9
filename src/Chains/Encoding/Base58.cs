namespace CryptoPay.Chains.Encoding;

/// <summary>Base58 with the Bitcoin alphabet (no 0, O, I, l).</summary>
public static class Base58
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    public static string Encode(ReadOnlySpan<byte> data)
    {
        var leadingZeros = 0;
        while (leadingZeros < data.Length && data[leadingZeros] == 0)
        {
            leadingZeros++;
        }

        // log(256) / log(58) ≈ 1.366, so this always has room for the digits.
        var capacity = ((data.Length - leadingZeros) * 138 / 100) + 1;
        Span<byte> digits = capacity <= 256 ? stackalloc byte[capacity] : new byte[capacity];
        var length = 0;
        for (var i = leadingZeros; i < data.Length; i++)
        {
            int carry = data[i];
            for (var j = 0; j < length; j++)
            {
                carry += digits[j] << 8;
                digits[j] = (byte)(carry % 58);
                carry /= 58;
            }

            while (carry > 0)
            {
                digits[length++] = (byte)(carry % 58);
                carry /= 58;
            }
        }

        var result = new char[leadingZeros + length];
        result.AsSpan(0, leadingZeros).Fill('1');
        for (var i = 0; i < length; i++)
        {
            result[leadingZeros + i] = Alphabet[digits[length - 1 - i]];
        }

        return new string(result);
    }

    /// <summary>Decodes base58 text; returns false on any character outside the alphabet.</summary>
    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] data)
    {
        var leadingOnes = 0;
        while (leadingOnes < text.Length && text[leadingOnes] == '1')
        {
            leadingOnes++;
        }

        // log(58) / log(256) ≈ 0.733
        var capacity = ((text.Length - leadingOnes) * 733 / 1000) + 1;
        Span<byte> bytes = capacity <= 256 ? stackalloc byte[capacity] : new byte[capacity];
        var length = 0;
        for (var i = leadingOnes; i < text.Length; i++)
        {
            var value = DigitValue(text[i]);
            if (value < 0)
            {
                data = [];
                return false;
            }

            var carry = value;
            for (var j = 0; j < length; j++)
            {
                carry += bytes[j] * 58;
                bytes[j] = (byte)carry;
                carry >>= 8;
            }

            while (carry > 0)
            {
                bytes[length++] = (byte)carry;
                carry >>= 8;
            }
        }

        data = new byte[leadingOnes + length];
        for (var i = 0; i < length; i++)
        {
            data[leadingOnes + i] = bytes[length - 1 - i];
        }

        return true;
    }

    private static int DigitValue(char c) => c switch
    {
        >= '1' and <= '9' => c - '1',
        >= 'A' and <= 'H' => c - 'A' + 9,
        >= 'J' and <= 'N' => c - 'J' + 17,
        >= 'P' and <= 'Z' => c - 'P' + 22,
        >= 'a' and <= 'k' => c - 'a' + 33,
        >= 'm' and <= 'z' => c - 'm' + 44,
        _ => -1,
    };
}
