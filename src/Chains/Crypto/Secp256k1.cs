using Org.BouncyCastle.Crypto.EC;
using Org.BouncyCastle.Math;
using Org.BouncyCastle.Math.EC;
using Org.BouncyCastle.Math.EC.Multiplier;

namespace CryptoPay.Chains.Crypto;

/// <summary>
/// The secp256k1 operations HD wallets need: public keys from private keys, key validation,
/// (de)compression and the point addition of BIP32 CKDpub. Private and public keys are plain bytes.
/// </summary>
public static class Secp256k1
{
    public const int PrivateKeyLength = 32;
    public const int CompressedPublicKeyLength = 33;
    public const int UncompressedPublicKeyLength = 65;

    // The "custom" curve uses specialised field arithmetic; its parameters equal SEC 2's secp256k1.
    private static readonly Org.BouncyCastle.Asn1.X9.X9ECParameters Parameters = CustomNamedCurves.GetByName("secp256k1");

    private static ReadOnlySpan<byte> OrderBytes =>
    [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
        0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
    ];

    // Stateless: BouncyCastle keeps its comb precomputation on the generator point itself.
    private static readonly FixedPointCombMultiplier GeneratorMultiplier = new();

    // j·256^i·G for every byte position i and byte value j (32 × 255 affine points, ~2.5 MB), built once on first use.
    private static readonly Lazy<ECPoint[]> GeneratorTable = new(BuildGeneratorTable, LazyThreadSafetyMode.ExecutionAndPublication);

    internal static ECCurve Curve => Parameters.Curve;

    internal static ECPoint G => Parameters.G;

    /// <summary>The group order n.</summary>
    internal static BigInteger N => Parameters.N;

    public static bool IsValidPrivateKey(ReadOnlySpan<byte> privateKey) =>
        privateKey.Length == PrivateKeyLength && privateKey.ContainsAnyExcept((byte)0) && IsBelowOrder(privateKey);

    /// <summary>Whether a 32-byte big-endian scalar is below the group order n (equal-length big-endian bytes compare as numbers).</summary>
    internal static bool IsBelowOrder(ReadOnlySpan<byte> scalar) =>
        scalar.Length == PrivateKeyLength && scalar.SequenceCompareTo(OrderBytes) < 0;

    public static bool IsValidPublicKey(ReadOnlySpan<byte> publicKey) => TryDecodePoint(publicKey, out _);

    public static byte[] GetPublicKey(ReadOnlySpan<byte> privateKey, bool compressed = true)
    {
        if (!IsValidPrivateKey(privateKey))
        {
            throw new ArgumentException("A secp256k1 private key is 32 bytes in the range 1..n-1.", nameof(privateKey));
        }

        return MultiplyGenerator(ToBigInteger(privateKey)).GetEncoded(compressed);
    }

    public static byte[] Compress(ReadOnlySpan<byte> publicKey) => DecodePoint(publicKey).GetEncoded(true);

    public static byte[] Decompress(ReadOnlySpan<byte> publicKey) => DecodePoint(publicKey).GetEncoded(false);

    /// <summary>publicKey + tweak·G, the public half of BIP32 CKDpub. Throws if the tweak is out of range or the sum is infinity.</summary>
    public static byte[] AddTweak(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> tweak, bool compressed = true)
    {
        var point = DecodePoint(publicKey);
        var t = ToBigInteger(tweak);
        if (tweak.Length != PrivateKeyLength || t.CompareTo(N) >= 0)
        {
            throw new ArgumentException("A tweak is 32 bytes below the group order.", nameof(tweak));
        }

        var sum = MultiplyGenerator(t).Add(point).Normalize();
        if (sum.IsInfinity)
        {
            throw new ArgumentException("The tweaked key is the point at infinity.", nameof(tweak));
        }

        return sum.GetEncoded(compressed);
    }

    internal static ECPoint MultiplyGenerator(BigInteger k) => GeneratorMultiplier.Multiply(G, k).Normalize();

    /// <summary>
    /// point + k·G from a byte-wise table: at most 32 mixed additions and one inversion. Its running time depends
    /// on k, so it is only for public scalars such as the CKDpub tweak, never for private keys.
    /// </summary>
    internal static ECPoint AddMultipleOfGeneratorPublic(ECPoint point, ReadOnlySpan<byte> k)
    {
        if (k.Length != PrivateKeyLength)
        {
            throw new ArgumentException("A scalar is 32 bytes.", nameof(k));
        }

        var table = GeneratorTable.Value;
        var sum = point;
        for (var i = 0; i < PrivateKeyLength; i++)
        {
            var digit = k[PrivateKeyLength - 1 - i];
            if (digit != 0)
            {
                sum = sum.Add(table[(i * 255) + digit - 1]);
            }
        }

        return sum.Normalize();
    }

    internal static BigInteger ToBigInteger(ReadOnlySpan<byte> bytes) => new(1, bytes.ToArray());

    internal static ECPoint DecodePoint(ReadOnlySpan<byte> publicKey) =>
        TryDecodePoint(publicKey, out var point)
            ? point
            : throw new ArgumentException("Not a valid secp256k1 public key (33-byte compressed or 65-byte uncompressed point on the curve).", nameof(publicKey));

    internal static bool TryDecodePoint(ReadOnlySpan<byte> publicKey, out ECPoint point)
    {
        point = Curve.Infinity;
        var validShape = publicKey.Length switch
        {
            CompressedPublicKeyLength => publicKey[0] is 0x02 or 0x03,
            UncompressedPublicKeyLength => publicKey[0] == 0x04,
            _ => false,
        };
        if (!validShape)
        {
            return false;
        }

        try
        {
            var decoded = Curve.DecodePoint(publicKey.ToArray());
            if (decoded.IsInfinity || !decoded.IsValid())
            {
                return false;
            }

            point = decoded.Normalize();
            return true;
        }
        catch (ArgumentException)
        {
            // BouncyCastle reports an x with no square root (not on the curve) this way.
            return false;
        }
    }

    private static ECPoint[] BuildGeneratorTable()
    {
        var table = new ECPoint[PrivateKeyLength * 255];
        var rowBase = G;
        for (var i = 0; i < PrivateKeyLength; i++)
        {
            var multiple = rowBase;
            for (var j = 0; j < 255; j++)
            {
                table[(i * 255) + j] = multiple;
                multiple = multiple.Add(rowBase);
            }

            // After 255 additions `multiple` is 256·rowBase, the next row's base.
            rowBase = multiple;
        }

        Curve.NormalizeAll(table);
        return table;
    }

    /// <summary>Left-pads to 32 bytes: BigInteger drops leading zeros, BIP32 keys keep them.</summary>
    internal static void WriteScalar(BigInteger value, Span<byte> destination)
    {
        var bytes = value.ToByteArrayUnsigned();
        destination.Clear();
        bytes.CopyTo(destination[(destination.Length - bytes.Length)..]);
    }
}
