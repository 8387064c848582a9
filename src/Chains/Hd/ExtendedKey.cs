using System.Buffers.Binary;
using NBitcoin;
using NBitcoin.DataEncoders;

namespace CryptoPay.Chains.Hd;

/// <summary>
/// A BIP32 extended key (private or public) on NBitcoin's <see cref="ExtKey"/>/<see cref="ExtPubKey"/>, with the
/// version bytes it was written with. NBitcoin ties version bytes to its networks and knows no SLIP-132 variants
/// (zpub, vpub, Ltub…), so the four version bytes are read and written here around its 74-byte key serialization.
/// Immutable.
/// </summary>
public sealed class ExtendedKey
{
    public const int SerializedLength = 78;

    private const int VersionLength = 4;

    private readonly ExtKey? _private;
    private readonly ExtPubKey _public;

    private ExtendedKey(ExtendedKeyVersion version, ExtKey? privateKey, ExtPubKey publicKey)
    {
        Version = version;
        _private = privateKey;
        _public = publicKey;
    }

    public ExtendedKeyVersion Version { get; }

    public byte Depth => _public.Depth;

    public uint ParentFingerprint => BinaryPrimitives.ReadUInt32BigEndian(_public.ParentFingerprint.ToBytes());

    /// <summary>The index this key was derived with (hardened indexes include 0x80000000).</summary>
    public uint ChildNumber => _public.Child;

    public bool IsPrivate => _private is not null;

    /// <summary>The public extended key as NBitcoin's type, for derivation and scripts.</summary>
    public ExtPubKey PublicExtKey => _public;

    /// <summary>The private extended key as NBitcoin's type (payout signing on test chains), or null for a public key.</summary>
    public ExtKey? PrivateExtKey => _private;

    public ReadOnlySpan<byte> ChainCode => _public.ChainCode;

    /// <summary>The 33-byte compressed public key.</summary>
    public ReadOnlySpan<byte> PublicKey => _public.PubKey.ToBytes();

    /// <summary>The first 32 bits of HASH160(public key); children record it as their parent fingerprint.</summary>
    public uint Fingerprint => BinaryPrimitives.ReadUInt32BigEndian(_public.PubKey.GetHDFingerPrint().ToBytes());

    /// <summary>The master key of BIP32 over a 16..64-byte seed.</summary>
    public static ExtendedKey FromSeed(ReadOnlySpan<byte> seed, ExtendedKeyVersion? version = null)
    {
        if (seed.Length is < 16 or > 64)
        {
            throw new ArgumentException("A BIP32 seed is 128 to 512 bits.", nameof(seed));
        }

        var master = ExtKey.CreateFromSeed(seed);
        return new ExtendedKey(version ?? ExtendedKeyVersion.Xpub, master, master.Neuter());
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
        byte[] data;
        try
        {
            data = Encoders.Base58Check.DecodeData(serialized.Trim());
        }
        catch (FormatException exception)
        {
            error = $"not base58check ({exception.Message})";
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

        // NBitcoin reads any depth-0 key; BIP32 vector 5 rejects a master key that claims a parent or an index.
        var depth = data[4];
        if (depth == 0 && data.AsSpan(5, 8).ContainsAnyExcept((byte)0))
        {
            error = "zero depth with a non-zero parent fingerprint or child number";
            return false;
        }

        var keyMarker = data[45];
        if (isPrivate != (keyMarker == 0x00))
        {
            error = isPrivate
                ? $"{version.PrivatePrefix} version holds key data starting 0x{keyMarker:x2}, not a private key"
                : $"{version.PublicPrefix} version holds key data starting 0x{keyMarker:x2}, not a public key";
            return false;
        }

        try
        {
            var body = data.AsSpan(VersionLength);
            if (isPrivate)
            {
                var privateKey = ExtKey.CreateFromBytes(body);
                key = new ExtendedKey(version, privateKey, privateKey.Neuter());
            }
            else
            {
                key = new ExtendedKey(version, null, new ExtPubKey(body));
            }
        }
        catch (Exception exception) when (exception is FormatException or ArgumentException or InvalidOperationException)
        {
            error = isPrivate ? $"private key is not in 1..n-1 ({exception.Message})" : $"public key is not a point on secp256k1 ({exception.Message})";
            return false;
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
        var data = new byte[SerializedLength];
        BinaryPrimitives.WriteUInt32BigEndian(data, IsPrivate ? version.PrivateVersion : version.PublicVersion);
        (_private?.ToBytes() ?? _public.ToBytes()).CopyTo(data, VersionLength);
        return Encoders.Base58Check.EncodeData(data);
    }

    /// <summary>The same key under other version bytes (the key material is unchanged).</summary>
    public ExtendedKey WithVersion(ExtendedKeyVersion version) => new(version, _private, _public);

    /// <summary>The public extended key (BIP32 "N"); a public key returns itself.</summary>
    public ExtendedKey Neuter() => IsPrivate ? new ExtendedKey(Version, null, _public) : this;

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

    /// <summary>CKDpriv for a private key, CKDpub for a public one. Indexes from 0x80000000 are hardened and need the private key.</summary>
    public ExtendedKey Derive(uint index)
    {
        if (_private is null && Bip32.IsHardened(index))
        {
            throw new InvalidOperationException(
                $"Cannot derive hardened child {index & ~Bip32.HardenedOffset}' from a public extended key: hardened derivation needs the private key.");
        }

        if (Depth == byte.MaxValue)
        {
            throw new InvalidOperationException("BIP32 keys cannot be deeper than 255 levels.");
        }

        try
        {
            if (_private is not null)
            {
                var child = _private.Derive(index);
                return new ExtendedKey(Version, child, child.Neuter());
            }

            return new ExtendedKey(Version, null, _public.Derive(index));
        }
        catch (ArgumentException exception)
        {
            throw new InvalidChildKeyException(index, exception);
        }
    }
}

/// <summary>
/// BIP32's rare invalid child (IL ≥ n, or a zero/infinite result; probability below 2^-127): the caller moves to the next index.
/// </summary>
public sealed class InvalidChildKeyException(uint index, Exception? inner = null)
    : InvalidOperationException($"Child index {index} gives an invalid key under BIP32; use the next index.", inner)
{
    public uint Index { get; } = index;
}
