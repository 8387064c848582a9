using CryptoPay.Chains.Crypto;
using CryptoPay.Chains.Encoding;

namespace CryptoPay.Chains.Addresses;

/// <summary>Ethereum-style 20-byte account addresses and their EIP-55 mixed-case checksum.</summary>
public static class EvmAddress
{
    public const int Length = 20;

    /// <summary>The last 20 bytes of Keccak-256 over the 64-byte uncompressed key (X ‖ Y). Accepts 33-, 64- or 65-byte keys.</summary>
    public static byte[] AccountBytesFromPublicKey(ReadOnlySpan<byte> publicKey)
    {
        byte[] uncompressed;
        if (publicKey.Length == 64)
        {
            uncompressed = new byte[65];
            uncompressed[0] = 0x04;
            publicKey.CopyTo(uncompressed.AsSpan(1));
            if (!Secp256k1.IsValidPublicKey(uncompressed))
            {
                throw new ArgumentException("Not a point on secp256k1.", nameof(publicKey));
            }
        }
        else
        {
            uncompressed = Secp256k1.Decompress(publicKey);
        }

        return AccountBytesFromUncompressed(uncompressed);
    }

    /// <summary>EIP-55 address of a public key.</summary>
    public static string FromPublicKey(ReadOnlySpan<byte> publicKey) => ToChecksumAddress(AccountBytesFromPublicKey(publicKey));

    /// <summary>"0x" + 40 hex digits, each letter uppercased when the matching nibble of Keccak(lowercase hex) is ≥ 8 (EIP-55).</summary>
    public static string ToChecksumAddress(ReadOnlySpan<byte> address)
    {
        if (address.Length != Length)
        {
            throw new ArgumentException("An EVM address is 20 bytes.", nameof(address));
        }

        var lowerHex = new byte[2 * Length];
        for (var i = 0; i < Length; i++)
        {
            lowerHex[2 * i] = (byte)HexDigit(address[i] >> 4);
            lowerHex[(2 * i) + 1] = (byte)HexDigit(address[i] & 0xf);
        }

        var hash = Hashes.Keccak256(lowerHex, 0, lowerHex.Length);
        return string.Create(2 + (2 * Length), (lowerHex, hash), static (chars, state) =>
        {
            chars[0] = '0';
            chars[1] = 'x';
            for (var i = 0; i < 2 * Length; i++)
            {
                var c = (char)state.lowerHex[i];
                var nibble = (i & 1) == 0 ? state.hash[i / 2] >> 4 : state.hash[i / 2] & 0xf;
                chars[2 + i] = c >= 'a' && nibble >= 8 ? (char)(c - 32) : c;
            }
        });
    }

    /// <summary>Re-cases any 0x-hex address to its EIP-55 form (the input's own case is not checked).</summary>
    public static string ToChecksumAddress(string address)
    {
        if (!TryParseHex(address, out var bytes, out var error))
        {
            throw new FormatException(error);
        }

        return ToChecksumAddress(bytes);
    }

    /// <summary>
    /// Parses 0x + 40 hex digits. All-lowercase or all-uppercase is accepted as unchecksummed; mixed case must match EIP-55.
    /// </summary>
    public static bool TryParse(string address, out byte[] bytes, out string? error)
    {
        if (!TryParseHex(address, out bytes, out error))
        {
            return false;
        }

        var digits = address.AsSpan(2);
        var hasLower = false;
        var hasUpper = false;
        foreach (var c in digits)
        {
            hasLower |= c is >= 'a' and <= 'f';
            hasUpper |= c is >= 'A' and <= 'F';
        }

        if (hasLower && hasUpper && !string.Equals(ToChecksumAddress(bytes), address, StringComparison.Ordinal))
        {
            bytes = [];
            error = "mixed-case address fails its EIP-55 checksum";
            return false;
        }

        return true;
    }

    public static bool IsZero(ReadOnlySpan<byte> address) => !address.ContainsAnyExcept((byte)0);

    internal static byte[] AccountBytesFromUncompressed(byte[] uncompressed)
    {
        var hash = Hashes.Keccak256(uncompressed, 1, 64);
        return hash[^Length..];
    }

    private static bool TryParseHex(string address, out byte[] bytes, out string? error)
    {
        bytes = [];
        if (address is null || address.Length != 2 + (2 * Length) || !address.StartsWith("0x", StringComparison.Ordinal))
        {
            error = "an EVM address is 0x followed by 40 hexadecimal digits";
            return false;
        }

        if (!Hex.IsHexDigits(address.AsSpan(2)))
        {
            error = "non-hexadecimal character";
            return false;
        }

        bytes = Convert.FromHexString(address.AsSpan(2));
        error = null;
        return true;
    }

    private static int HexDigit(int value) => value < 10 ? '0' + value : 'a' + value - 10;
}
