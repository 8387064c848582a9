using System.Security.Cryptography;
using Org.BouncyCastle.Crypto.Digests;

namespace CryptoPay.Chains.Crypto;

/// <summary>The hash functions address and key formats are built from.</summary>
public static class Hashes
{
    public const int Sha256Length = 32;
    public const int Hash160Length = 20;
    public const int Keccak256Length = 32;

    public static byte[] Sha256(ReadOnlySpan<byte> data) => SHA256.HashData(data);

    public static void Sha256(ReadOnlySpan<byte> data, Span<byte> destination) => SHA256.HashData(data, destination);

    public static byte[] DoubleSha256(ReadOnlySpan<byte> data)
    {
        var result = new byte[Sha256Length];
        DoubleSha256(data, result);
        return result;
    }

    public static void DoubleSha256(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        Span<byte> first = stackalloc byte[Sha256Length];
        SHA256.HashData(data, first);
        SHA256.HashData(first, destination);
    }

    /// <summary>RIPEMD160(SHA256(data)): the key hash of P2PKH/P2WPKH and BIP32 key identifiers.</summary>
    public static byte[] Hash160(ReadOnlySpan<byte> data)
    {
        var sha = SHA256.HashData(data);
        var ripemd = new RipeMD160Digest();
        ripemd.BlockUpdate(sha, 0, sha.Length);
        var result = new byte[Hash160Length];
        ripemd.DoFinal(result, 0);
        return result;
    }

    public static byte[] Ripemd160(ReadOnlySpan<byte> data)
    {
        var input = data.ToArray();
        var ripemd = new RipeMD160Digest();
        ripemd.BlockUpdate(input, 0, input.Length);
        var result = new byte[Hash160Length];
        ripemd.DoFinal(result, 0);
        return result;
    }

    /// <summary>Original Keccak-256 (Ethereum's "sha3"), not the NIST SHA3-256 padding.</summary>
    public static byte[] Keccak256(ReadOnlySpan<byte> data)
    {
        var input = data.ToArray();
        return Keccak256(input, 0, input.Length);
    }

    public static byte[] Keccak256(byte[] data, int offset, int count)
    {
        var keccak = new KeccakDigest(256);
        keccak.BlockUpdate(data, offset, count);
        var result = new byte[Keccak256Length];
        keccak.DoFinal(result, 0);
        return result;
    }
}
