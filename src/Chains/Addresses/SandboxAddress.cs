using NBitcoin.Crypto;

namespace CryptoPay.Chains.Addresses;

/// <summary>Addresses of the simulated chain: "sbx_" + 40 lowercase hex digits of HASH160(compressed public key).</summary>
public static class SandboxAddress
{
    public const string Prefix = "sbx_";

    /// <summary>The sandbox hashes the 33 bytes as given; its simulated keys need not be curve points.</summary>
    public static string FromPublicKey(ReadOnlySpan<byte> compressedPublicKey) =>
        Prefix + Convert.ToHexStringLower(Hashes.Hash160RawBytes(compressedPublicKey));

    public static bool IsValid(string address) =>
        address is { Length: 44 }
        && address.StartsWith(Prefix, StringComparison.Ordinal)
        && !address.AsSpan(Prefix.Length).ContainsAnyExcept("0123456789abcdef");
}
