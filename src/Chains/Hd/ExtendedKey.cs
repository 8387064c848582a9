using System.Buffers.Binary;
using System.Security.Cryptography;
using CryptoPay.Chains.Crypto;
using CryptoPay.Chains.Encoding;
using Org.BouncyCastle.Math;

namespace CryptoPay.Chains.Hd;

/// <summary>
/// A BIP32 extended key (private or public): key, chain code and position in the tree, with the base58check
/// serialization of BIP32 and the SLIP-132 version variants. Immutable.
/// </summary>
public sealed class ExtendedKey
{
    public const int SerializedLength = 78;
    public const int ChainCodeLength = 32;

    private static readonly byte[] MasterKeyHmacKey = "Bitcoin seed"u8.ToArray();

    private readonly byte[] _chainCode;
    private readonly byte[]? _privateKey;
    private readonly byte[] _publicKey;

    private ExtendedKey(
        ExtendedKeyVersion version,
        byte depth,
        uint parentFingerprint,
        uint childNumber,
        byte[] chainCode,
        byte[]? privateKey,
        byte[] publicKey)
    {
        Version = version;
        Depth = depth;
        ParentFingerprint = parentFingerprint;
        ChildNumber = childNumber;
        _chainCode = chainCode;
        _privateKey = privateKey;
        _publicKey = publicKey;
    }

    public ExtendedKeyVersion Version { get; }

    public byte Depth { get; }

    public uint ParentFingerprint { get; }

    /// <summary>The index this key was derived with (hardened indexes include 0x80000000).</summary>
    public uint ChildNumber { get; }

    public bool IsPrivate => _privateKey is not null;

    public ReadOnlySpan<byte> ChainCode => _chainCode;

    /// <summary>The 33-byte compressed public key.</summary>
    public ReadOnlySpan<byte> PublicKey => _publicKey;

    /// <summary>The 32-byte private key, or empty for a public extended key.</summary>
    public ReadOnlySpan<byte> PrivateKey => _privateKey;

    /// <summary>HASH160 of the public key (BIP32 "key identifier").</summary>
    public byte[] Identifier => Hashes.Hash160(_publicKey);

    /// <summary>The first 32 bits of the identifier; children record it as their parent fingerprint.</summary>
    public uint Fingerprint => BinaryPrimitives.ReadUInt32BigEndian(Identifier);

    /// <summary>The master key of BIP32: HMAC-SHA512 keyed with "Bitcoin seed" over a 16..64-byte seed.</summary>
    public static ExtendedKey FromSeed(ReadOnlySpan<byte> seed, ExtendedKeyVersion? version = null)
    {
        if (seed.Length is < 16 or > 64)
        {
            throw new ArgumentException("A BIP32 seed is 128 to 512 bits.", nameof(seed));
        }

        Span<byte> i = stackalloc byte[64];
        HMACSHA512.HashData(MasterKeyHmacKey, seed, i);
        var key = i[..32].ToArray();
        if (!Secp256k1.IsValidPrivateKey(key))
        {
            throw new InvalidOperationException("This seed gives an invalid master key (probability below 2^-127); use another seed.");
        }

        return new ExtendedKey(version ?? ExtendedKeyVersion.Xpub, 0, 0, 0, i[32..].ToArray(), key, Secp256k1.GetPublicKey(key));
    }

    public static ExtendedKey Parse(string serialized) =>
        TryParse(serialized, out var key, out var error)
            ? key
            : throw new FormatException($"Invalid extended key: {error}.");

    /// <summary>Parses a base58check extended key and applies every BIP32 validity rule (test vector 5).</summary>
    public static bool TryParse(string serialized, out ExtendedKey key, out string error)
    {
        key = null!;
        ArgumentNullException.ThrowIfNull(serialized);
        if (!Base58Check.TryDecode(serialized.Trim(), out var data, out var decodeError))
        {
            error = decodeError!;
            return false;
        }

        if (data.Length != SerializedLength)
        {
            error = $"payload is {data.Length} bytes, not {SerializedLength}";
            return false;
        }

        var versionBytes = BinaryPrimitives.ReadUInt32BigEndian(data);
        if (!ExtendedKeyVersion.TryFind(versionBytes, out var version, out var isPrivate))
        {
            error = $"unknown version bytes 0x{versionBytes:x8}";
            return false;
        }

        var depth = data[4];
        var parentFingerprint = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(5));
        var childNumber = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(9));
        var chainCode = data.AsSpan(13, ChainCodeLength).ToArray();
        var keyData = data.AsSpan(45, 33);

        if (depth == 0 && parentFingerprint != 0)
        {
            error = "zero depth with a non-zero parent fingerprint";
            return false;
        }

        if (depth == 0 && childNumber != 0)
        {
            error = "zero depth with a non-zero child number";
            return false;
        }

        if (isPrivate)
        {
            if (keyData[0] != 0x00)
            {
                error = keyData[0] is 0x02 or 0x03
                    ? $"{version.PrivatePrefix} version holds a public key"
                    : $"private key data starts with 0x{keyData[0]:x2}, not 0x00";
                return false;
            }

            var privateKey = keyData[1..].ToArray();
            if (!Secp256k1.IsValidPrivateKey(privateKey))
            {
                error = "private key is not in 1..n-1";
                return false;
            }

            key = new ExtendedKey(version, depth, parentFingerprint, childNumber, chainCode, privateKey, Secp256k1.GetPublicKey(privateKey));
        }
        else
        {
            if (keyData[0] is not (0x02 or 0x03))
            {
                error = keyData[0] == 0x00
                    ? $"{version.PublicPrefix} version holds a private key"
                    : $"public key starts with 0x{keyData[0]:x2}, not 0x02 or 0x03";
                return false;
            }

            if (!Secp256k1.IsValidPublicKey(keyData))
            {
                error = "public key is not a point on secp256k1";
                return false;
            }

            key = new ExtendedKey(version, depth, parentFingerprint, childNumber, chainCode, null, keyData.ToArray());
        }

        error = string.Empty;
        return true;
    }

    /// <summary>Serializes with this key's own version bytes.</summary>
    public override string ToString() => Serialize(Version);

    /// <summary>Serializes with other version bytes, e.g. to show a zpub as the equivalent xpub.</summary>
    public string Serialize(ExtendedKeyVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        Span<byte> data = stackalloc byte[SerializedLength];
        BinaryPrimitives.WriteUInt32BigEndian(data, IsPrivate ? version.PrivateVersion : version.PublicVersion);
        data[4] = Depth;
        BinaryPrimitives.WriteUInt32BigEndian(data[5..], ParentFingerprint);
        BinaryPrimitives.WriteUInt32BigEndian(data[9..], ChildNumber);
        _chainCode.CopyTo(data[13..]);
        if (_privateKey is not null)
        {
            data[45] = 0;
            _privateKey.CopyTo(data[46..]);
        }
        else
        {
            _publicKey.CopyTo(data[45..]);
        }

        return Base58Check.Encode(data);
    }

    /// <summary>The same key under other version bytes (the key material is unchanged).</summary>
    public ExtendedKey WithVersion(ExtendedKeyVersion version) =>
        new(version, Depth, ParentFingerprint, ChildNumber, _chainCode, _privateKey, _publicKey);

    /// <summary>The public extended key (BIP32 "N"); a public key returns itself.</summary>
    public ExtendedKey Neuter() =>
        IsPrivate ? new ExtendedKey(Version, Depth, ParentFingerprint, ChildNumber, _chainCode, null, _publicKey) : this;

    public ExtendedKey Derive(string path) => Derive(KeyPath.Parse(path));

    /// <summary>Applies each step of the path in turn, relative to this key.</summary>
    public ExtendedKey Derive(KeyPath path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var key = this;
        foreach (var index in path.Indexes)
        {
            key = key.Derive(index);
        }

        return key;
    }

    /// <summary>
    /// CKDpriv for a private key, CKDpub for a public one. Indexes from 0x80000000 are hardened and need the private key.
    /// </summary>
    public ExtendedKey Derive(uint index)
    {
        var hardened = KeyPath.IsHardened(index);
        if (hardened && _privateKey is null)
        {
            throw new InvalidOperationException(
                $"Cannot derive hardened child {index & ~KeyPath.HardenedOffset}' from a public extended key: hardened derivation needs the private key.");
        }

        if (Depth == byte.MaxValue)
        {
            throw new InvalidOperationException("BIP32 keys cannot be deeper than 255 levels.");
        }

        Span<byte> data = stackalloc byte[37];
        if (hardened)
        {
            data[0] = 0;
            _privateKey!.CopyTo(data[1..]);
        }
        else
        {
            _publicKey.CopyTo(data);
        }

        BinaryPrimitives.WriteUInt32BigEndian(data[33..], index);
        Span<byte> i = stackalloc byte[64];
        HMACSHA512.HashData(_chainCode, data, i);
        data.Clear();

        var tweak = Secp256k1.ToBigInteger(i[..32]);
        if (tweak.CompareTo(Secp256k1.N) >= 0)
        {
            throw new InvalidChildKeyException(index);
        }

        var chainCode = i[32..].ToArray();
        var fingerprint = Fingerprint;
        var childDepth = (byte)(Depth + 1);
        if (_privateKey is not null)
        {
            var childScalar = tweak.Add(new BigInteger(1, _privateKey)).Mod(Secp256k1.N);
            if (childScalar.SignValue == 0)
            {
                throw new InvalidChildKeyException(index);
            }

            var childKey = new byte[32];
            Secp256k1.WriteScalar(childScalar, childKey);
            var childPublic = Secp256k1.MultiplyGenerator(childScalar).GetEncoded(true);
            return new ExtendedKey(Version, childDepth, fingerprint, index, chainCode, childKey, childPublic);
        }

        var point = Secp256k1.AddMultipleOfGeneratorPublic(Secp256k1.DecodePoint(_publicKey), i[..32]);
        if (point.IsInfinity)
        {
            throw new InvalidChildKeyException(index);
        }

        return new ExtendedKey(Version, childDepth, fingerprint, index, chainCode, null, point.GetEncoded(true));
    }
}

/// <summary>
/// BIP32's rare invalid child (IL ≥ n, or a zero/infinite result; probability below 2^-127): the caller moves to the next index.
/// </summary>
public sealed class InvalidChildKeyException(uint index)
    : InvalidOperationException($"Child index {index} gives an invalid key under BIP32; use the next index.")
{
    public uint Index { get; } = index;
}
