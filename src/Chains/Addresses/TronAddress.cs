using NBitcoin;
using NBitcoin.DataEncoders;

namespace CryptoPay.Chains.Addresses;

/// <summary>TRON addresses: NBitcoin's base58check of 0x41 ‖ the same 20 bytes an EVM address has.</summary>
public static class TronAddress
{
    public const byte Prefix = 0x41;

    public static string FromPublicKey(PubKey publicKey) => FromEvmAddress(EvmAddress.FromPublicKey(publicKey));

    /// <summary>Base58check ("T…") of the 20 account bytes.</summary>
    public static string Encode(ReadOnlySpan<byte> accountBytes)
    {
        if (accountBytes.Length != EvmAddress.Length)
        {
            throw new ArgumentException("A TRON account is 20 bytes.", nameof(accountBytes));
        }

        return Encoders.Base58Check.EncodeData([Prefix, .. accountBytes]);
    }

    /// <summary>Decodes "T…" to its 20 account bytes, checking checksum, length and the 0x41 prefix.</summary>
    public static bool TryDecode(string address, out byte[] accountBytes, out string? error)
    {
        accountBytes = [];
        if (string.IsNullOrEmpty(address))
        {
            error = "empty address";
            return false;
        }

        if (!((Base58Encoder)Encoders.Base58).IsMaybeEncoded(address))
        {
            error = "not base58: a character outside its alphabet";
            return false;
        }

        byte[] payload;
        try
        {
            payload = Encoders.Base58Check.DecodeData(address);
        }
        catch (FormatException exception)
        {
            error = $"base58check checksum mismatch ({exception.Message})";
            return false;
        }

        if (payload.Length != 1 + EvmAddress.Length)
        {
            error = $"payload is {payload.Length} bytes, a TRON address has 21";
            return false;
        }

        if (payload[0] != Prefix)
        {
            error = $"prefix byte 0x{payload[0]:x2} is not TRON's 0x41";
            return false;
        }

        accountBytes = payload[1..];
        error = null;
        return true;
    }

    public static byte[] Decode(string address) =>
        TryDecode(address, out var bytes, out var error) ? bytes : throw new FormatException($"Invalid TRON address: {error}.");

    /// <summary>"T…" → "41" + 40 lowercase hex digits (the form TRON's HTTP API and logs use).</summary>
    public static string ToHex(string address) => "41" + Convert.ToHexStringLower(Decode(address));

    /// <summary>"41…" hex (42 digits) → "T…".</summary>
    public static string FromHex(string hex)
    {
        var bytes = hex is { Length: 42 } && hex.All(char.IsAsciiHexDigit) ? Convert.FromHexString(hex) : [];
        if (bytes.Length != 21 || bytes[0] != Prefix)
        {
            throw new FormatException("A TRON hex address is 41 followed by 40 hexadecimal digits.");
        }

        return Encode(bytes.AsSpan(1));
    }

    /// <summary>"T…" → the EIP-55 0x address with the same 20 bytes (what TRON's Ethereum-compatible JSON-RPC returns).</summary>
    public static string ToEvmAddress(string address) => EvmAddress.ToChecksumAddress(Decode(address));

    /// <summary>0x address (any case) → "T…".</summary>
    public static string FromEvmAddress(string evmAddress) =>
        EvmAddress.TryParse(evmAddress.ToLowerInvariant(), out var bytes, out var error) ? Encode(bytes) : throw new FormatException(error);
}
