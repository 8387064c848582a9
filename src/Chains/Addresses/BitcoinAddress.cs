using CryptoPay.Chains.Bitcoin;
using CryptoPay.Chains.Crypto;
using CryptoPay.Chains.Encoding;

namespace CryptoPay.Chains.Addresses;

/// <summary>Builds UTXO addresses from compressed public keys.</summary>
public static class BitcoinAddress
{
    /// <summary>BIP84 native segwit v0: bech32 of HASH160(compressed public key).</summary>
    public static string P2wpkh(ReadOnlySpan<byte> compressedPublicKey, string hrp)
    {
        RequireCompressed(compressedPublicKey);
        return SegwitAddress.Encode(hrp, 0, Hashes.Hash160(compressedPublicKey));
    }

    /// <summary>Legacy pay-to-public-key-hash (BIP44 accounts).</summary>
    public static string P2pkh(ReadOnlySpan<byte> compressedPublicKey, byte version)
    {
        RequireCompressed(compressedPublicKey);
        return Base58CheckWithVersion(version, Hashes.Hash160(compressedPublicKey));
    }

    /// <summary>P2WPKH nested in P2SH (BIP49 accounts): HASH160 of the script 0x0014 ‖ key hash.</summary>
    public static string P2shP2wpkh(ReadOnlySpan<byte> compressedPublicKey, byte version)
    {
        RequireCompressed(compressedPublicKey);
        var redeemScript = Script.ForWitnessProgram(0, Hashes.Hash160(compressedPublicKey));
        return Base58CheckWithVersion(version, Hashes.Hash160(redeemScript));
    }

    internal static string Base58CheckWithVersion(byte version, ReadOnlySpan<byte> hash)
    {
        Span<byte> payload = stackalloc byte[1 + hash.Length];
        payload[0] = version;
        hash.CopyTo(payload[1..]);
        return Base58Check.Encode(payload);
    }

    private static void RequireCompressed(ReadOnlySpan<byte> publicKey)
    {
        if (publicKey.Length != Secp256k1.CompressedPublicKeyLength || publicKey[0] is not (0x02 or 0x03))
        {
            throw new ArgumentException("Segwit and BIP32 addresses use the 33-byte compressed public key.", nameof(publicKey));
        }
    }
}
