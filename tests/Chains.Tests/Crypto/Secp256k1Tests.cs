using CryptoPay.Chains.Crypto;
using CryptoPay.Chains.Encoding;

namespace CryptoPay.Chains.Tests.Crypto;

public sealed class Secp256k1Tests
{
    // SEC 2 §2.4.1: the secp256k1 generator G (public key of private key 1) and the group order n.
    private const string GeneratorCompressed = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
    private const string GeneratorUncompressed = "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";
    private const string Order = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

    // Multiples of G from the widely published secp256k1 point tables: 2G and 3G (compressed).
    private const string TwoG = "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";
    private const string ThreeG = "02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9";

    [Fact]
    public void Private_key_one_gives_the_generator()
    {
        var one = Scalar(1);

        Assert.Equal(GeneratorCompressed, Hex.Encode(Secp256k1.GetPublicKey(one)));
        Assert.Equal(GeneratorUncompressed, Hex.Encode(Secp256k1.GetPublicKey(one, compressed: false)));
    }

    [Fact]
    public void Small_multiples_match_the_point_table()
    {
        Assert.Equal(TwoG, Hex.Encode(Secp256k1.GetPublicKey(Scalar(2))));
        Assert.Equal(ThreeG, Hex.Encode(Secp256k1.GetPublicKey(Scalar(3))));
    }

    [Fact]
    public void Adding_a_tweak_is_point_addition()
    {
        var generator = Convert.FromHexString(GeneratorCompressed);

        Assert.Equal(TwoG, Hex.Encode(Secp256k1.AddTweak(generator, Scalar(1))));
        Assert.Equal(ThreeG, Hex.Encode(Secp256k1.AddTweak(generator, Scalar(2))));
    }

    [Fact]
    public void N_minus_one_is_the_negated_generator()
    {
        var nMinusOne = Convert.FromHexString(Order);
        nMinusOne[^1]--;

        // -G shares G's x coordinate; G's y is even, so -G's is odd.
        Assert.Equal("03" + GeneratorCompressed[2..], Hex.Encode(Secp256k1.GetPublicKey(nMinusOne)));
    }

    [Fact]
    public void Compression_round_trips()
    {
        Assert.Equal(GeneratorUncompressed, Hex.Encode(Secp256k1.Decompress(Convert.FromHexString(GeneratorCompressed))));
        Assert.Equal(GeneratorCompressed, Hex.Encode(Secp256k1.Compress(Convert.FromHexString(GeneratorUncompressed))));
    }

    [Fact]
    public void Private_keys_outside_1_to_n_minus_1_are_invalid()
    {
        Assert.False(Secp256k1.IsValidPrivateKey(new byte[32]));
        Assert.False(Secp256k1.IsValidPrivateKey(Convert.FromHexString(Order)));
        Assert.False(Secp256k1.IsValidPrivateKey(new byte[31]));
        Assert.True(Secp256k1.IsValidPrivateKey(Scalar(1)));
        Assert.Throws<ArgumentException>(() => Secp256k1.GetPublicKey(new byte[32]));
    }

    [Theory]
    [InlineData("020000000000000000000000000000000000000000000000000000000000000007")]
    [InlineData("0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b9")]
    [InlineData("0579be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")]
    [InlineData("0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f817")]
    [InlineData("")]
    public void Points_off_the_curve_or_badly_encoded_are_invalid(string publicKeyHex)
    {
        Assert.False(Secp256k1.IsValidPublicKey(Convert.FromHexString(publicKeyHex)));
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000001")]
    [InlineData("00000000000000000000000000000000000000000000000000000000000000ff")]
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd036413f")]
    [InlineData("ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00")]
    [InlineData("3c6cb8d0f6a264c91ea8b5030fadaa8e538b020f0a387421a12de9319dc93368")]
    public void Table_multiplication_agrees_with_the_comb_multiplier(string scalarHex)
    {
        var scalar = Convert.FromHexString(scalarHex);
        var generator = Convert.FromHexString(GeneratorCompressed);

        var fromInfinity = Secp256k1.AddMultipleOfGeneratorPublic(Secp256k1.Curve.Infinity, scalar);
        var fromGenerator = Secp256k1.AddMultipleOfGeneratorPublic(Secp256k1.DecodePoint(generator), scalar);

        Assert.Equal(Hex.Encode(Secp256k1.GetPublicKey(scalar)), Hex.Encode(fromInfinity.GetEncoded(true)));
        Assert.Equal(Hex.Encode(Secp256k1.AddTweak(generator, scalar)), Hex.Encode(fromGenerator.GetEncoded(true)));
    }

    [Fact]
    public void Generator_plus_n_minus_one_times_generator_is_infinity_on_both_paths()
    {
        var nMinusOne = Convert.FromHexString("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140");
        var generator = Convert.FromHexString(GeneratorCompressed);

        Assert.True(Secp256k1.AddMultipleOfGeneratorPublic(Secp256k1.DecodePoint(generator), nMinusOne).IsInfinity);
        Assert.Throws<ArgumentException>(() => Secp256k1.AddTweak(generator, nMinusOne));
    }

    private static byte[] Scalar(byte value)
    {
        var scalar = new byte[32];
        scalar[^1] = value;
        return scalar;
    }
}
