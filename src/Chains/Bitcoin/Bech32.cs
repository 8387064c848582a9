namespace CryptoPay.Chains.Bitcoin;

/// <summary>Which checksum constant a bech32 string uses: BIP173 (bech32) or BIP350 (bech32m).</summary>
public enum Bech32Variant
{
    Bech32 = 1,
    Bech32m = 2,
}

/// <summary>A bech32 string taken apart: lowercase human-readable part and 5-bit data values (checksum removed).</summary>
public sealed record Bech32Data(string Hrp, byte[] Data, Bech32Variant Variant);

/// <summary>The bech32 and bech32m string formats of BIP173 and BIP350, independent of segwit rules.</summary>
public static class Bech32
{
    public const int MaxLength = 90;
    public const int ChecksumLength = 6;
    private const string Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    private const uint Bech32Constant = 1;
    private const uint Bech32mConstant = 0x2bc830a3;

    public static string Encode(string hrp, ReadOnlySpan<byte> data, Bech32Variant variant)
    {
        ArgumentNullException.ThrowIfNull(hrp);
        if (hrp.Length == 0 || hrp.Length + 1 + data.Length + ChecksumLength > MaxLength)
        {
            throw new ArgumentException("The human-readable part must be 1..83 characters and the whole string at most 90.", nameof(hrp));
        }

        foreach (var c in hrp)
        {
            if (c is < (char)33 or > (char)126 || char.IsAsciiLetterUpper(c))
            {
                throw new ArgumentException("The human-readable part must be lowercase printable US-ASCII.", nameof(hrp));
            }
        }

        foreach (var value in data)
        {
            if (value > 31)
            {
                throw new ArgumentException("Bech32 data values are 5-bit (0..31).", nameof(data));
            }
        }

        var checksum = CreateChecksum(hrp, data, variant);
        var result = new char[hrp.Length + 1 + data.Length + ChecksumLength];
        hrp.CopyTo(result);
        result[hrp.Length] = '1';
        var position = hrp.Length + 1;
        foreach (var value in data)
        {
            result[position++] = Charset[value];
        }

        for (var i = 0; i < ChecksumLength; i++)
        {
            result[position++] = Charset[(int)((checksum >> (5 * (5 - i))) & 31)];
        }

        return new string(result);
    }

    public static Bech32Data Decode(string text) =>
        TryDecode(text, out var decoded, out var error) ? decoded : throw new FormatException(error);

    /// <summary>Decodes and verifies a bech32 or bech32m string; the variant is whichever checksum matches.</summary>
    public static bool TryDecode(string text, out Bech32Data decoded, out string error)
    {
        decoded = new Bech32Data(string.Empty, [], Bech32Variant.Bech32);
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > MaxLength)
        {
            error = $"longer than {MaxLength} characters";
            return false;
        }

        var hasLower = false;
        var hasUpper = false;
        foreach (var c in text)
        {
            if (c is < (char)33 or > (char)126)
            {
                error = "character out of the printable US-ASCII range";
                return false;
            }

            hasLower |= char.IsAsciiLetterLower(c);
            hasUpper |= char.IsAsciiLetterUpper(c);
        }

        if (hasLower && hasUpper)
        {
            error = "mixed case";
            return false;
        }

        var lower = hasUpper ? text.ToLowerInvariant() : text;
        var separator = lower.LastIndexOf('1');
        if (separator < 0)
        {
            error = "no separator character '1'";
            return false;
        }

        if (separator == 0)
        {
            error = "empty human-readable part";
            return false;
        }

        if (lower.Length - separator - 1 < ChecksumLength)
        {
            error = "checksum too short";
            return false;
        }

        var data = new byte[lower.Length - separator - 1];
        for (var i = 0; i < data.Length; i++)
        {
            var value = Charset.IndexOf(lower[separator + 1 + i], StringComparison.Ordinal);
            if (value < 0)
            {
                error = $"invalid data character '{lower[separator + 1 + i]}'";
                return false;
            }

            data[i] = (byte)value;
        }

        var hrp = lower[..separator];
        var residue = Polymod(hrp, data);
        Bech32Variant variant;
        if (residue == Bech32Constant)
        {
            variant = Bech32Variant.Bech32;
        }
        else if (residue == Bech32mConstant)
        {
            variant = Bech32Variant.Bech32m;
        }
        else
        {
            error = "invalid checksum";
            return false;
        }

        decoded = new Bech32Data(hrp, data[..^ChecksumLength], variant);
        error = string.Empty;
        return true;
    }

    /// <summary>Regroups bits (8→5 to encode, 5→8 to decode). Without padding, leftover bits must be fewer than fromBits and zero.</summary>
    public static bool TryConvertBits(ReadOnlySpan<byte> data, int fromBits, int toBits, bool pad, out byte[] result)
    {
        var output = new byte[((data.Length * fromBits) + toBits - 1) / toBits];
        var length = 0;
        var accumulator = 0;
        var bits = 0;
        var maxValue = (1 << toBits) - 1;
        foreach (var value in data)
        {
            if (value >> fromBits != 0)
            {
                result = [];
                return false;
            }

            accumulator = (accumulator << fromBits) | value;
            bits += fromBits;
            while (bits >= toBits)
            {
                bits -= toBits;
                output[length++] = (byte)((accumulator >> bits) & maxValue);
            }

            accumulator &= (1 << bits) - 1;
        }

        if (pad)
        {
            if (bits > 0)
            {
                output[length++] = (byte)((accumulator << (toBits - bits)) & maxValue);
            }
        }
        else if (bits >= fromBits || ((accumulator << (toBits - bits)) & maxValue) != 0)
        {
            result = [];
            return false;
        }

        result = length == output.Length ? output : output[..length];
        return true;
    }

    private static uint CreateChecksum(string hrp, ReadOnlySpan<byte> data, Bech32Variant variant)
    {
        var chk = Polymod(hrp, data);
        for (var i = 0; i < ChecksumLength; i++)
        {
            chk = Step(chk, 0);
        }

        return chk ^ (variant == Bech32Variant.Bech32m ? Bech32mConstant : Bech32Constant);
    }

    private static uint Polymod(string hrp, ReadOnlySpan<byte> data)
    {
        uint chk = 1;
        foreach (var c in hrp)
        {
            chk = Step(chk, (byte)(c >> 5));
        }

        chk = Step(chk, 0);
        foreach (var c in hrp)
        {
            chk = Step(chk, (byte)(c & 31));
        }

        foreach (var value in data)
        {
            chk = Step(chk, value);
        }

        return chk;
    }

    private static uint Step(uint chk, byte value)
    {
        var top = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ value;
        if ((top & 1) != 0)
        {
            chk ^= 0x3b6a57b2;
        }

        if ((top & 2) != 0)
        {
            chk ^= 0x26508e6d;
        }

        if ((top & 4) != 0)
        {
            chk ^= 0x1ea119fa;
        }

        if ((top & 8) != 0)
        {
            chk ^= 0x3d4233dd;
        }

        if ((top & 16) != 0)
        {
            chk ^= 0x2a1462b3;
        }

        return chk;
    }
}
