using CryptoPay.Chains.Crypto;

namespace CryptoPay.Chains.Encoding;

/// <summary>Base58 of payload ‖ first four bytes of SHA256(SHA256(payload)).</summary>
public static class Base58Check
{
    private const int ChecksumLength = 4;

    public static string Encode(ReadOnlySpan<byte> payload)
    {
        Span<byte> buffer = payload.Length + ChecksumLength <= 256
            ? stackalloc byte[payload.Length + ChecksumLength]
            : new byte[payload.Length + ChecksumLength];
        payload.CopyTo(buffer);
        Span<byte> hash = stackalloc byte[32];
        Hashes.DoubleSha256(payload, hash);
        hash[..ChecksumLength].CopyTo(buffer[payload.Length..]);
        return Base58.Encode(buffer);
    }

    public static bool TryDecode(ReadOnlySpan<char> text, out byte[] payload, out string? error)
    {
        payload = [];
        if (!Base58.TryDecode(text, out var raw))
        {
            error = "invalid base58 character";
            return false;
        }

        if (raw.Length < ChecksumLength)
        {
            error = "too short for a base58check checksum";
            return false;
        }

        var body = raw.AsSpan(0, raw.Length - ChecksumLength);
        Span<byte> hash = stackalloc byte[32];
        Hashes.DoubleSha256(body, hash);
        if (!hash[..ChecksumLength].SequenceEqual(raw.AsSpan(raw.Length - ChecksumLength)))
        {
            error = "invalid base58check checksum";
            return false;
        }

        payload = body.ToArray();
        error = null;
        return true;
    }

    public static byte[] Decode(ReadOnlySpan<char> text) =>
        TryDecode(text, out var payload, out var error) ? payload : throw new FormatException(error);
}
