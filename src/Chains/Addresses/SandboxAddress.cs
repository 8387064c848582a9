using CryptoPay.Chains.Crypto;
using CryptoPay.Chains.Encoding;

namespace CryptoPay.Chains.Addresses;

/// <summary>Addresses of the simulated chain: "sbx_" + 40 lowercase hex digits of HASH160(compressed public key).</summary>
public static class SandboxAddress
{
    public const string Prefix = "sbx_";

    public static string FromPublicKey(ReadOnlySpan<byte> compressedPublicKey) =>
        Prefix + Hex.Encode(Hashes.Hash160(compressedPublicKey));

    public static bool IsValid(string address) =>
        address is { Length: 44 }
        && address.StartsWith(Prefix, StringComparison.Ordinal)
        && !address.AsSpan(Prefix.Length).ContainsAnyExcept("0123456789abcdef");
}
