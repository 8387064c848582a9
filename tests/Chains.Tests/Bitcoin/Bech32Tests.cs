using NBitcoin.DataEncoders;

namespace CryptoPay.Chains.Tests.Bitcoin;

public sealed class Bech32Tests
{
    // BIP173 "Test vectors": valid Bech32 strings.
    public static TheoryData<string> ValidBech32 => new()
    {
        "A12UEL5L",
        "a12uel5l",
        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        "11qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqc8247j",
        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
        "?1ezyfcl",
    };

    // BIP350 "Test vectors for Bech32m": valid Bech32m strings.
    public static TheoryData<string> ValidBech32m => new()
    {
        "A1LQFN3A",
        "a1lqfn3a",
        "an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6",
        "abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx",
        "11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8",
        "split1checkupstagehandshakeupstreamerranterredcaperredlc445v",
        "?1v759aa",
    };

    // BIP173 "Test vectors": strings that are not valid Bech32, with the BIP's reason.
    public static TheoryData<string, string> InvalidBech32 => new()
    {
        { "\u0020" + "1nwldj5", "HRP character out of range" },
        { "\u007F" + "1axkwrx", "HRP character out of range" },
        { "\u0080" + "1eym55h", "HRP character out of range" },
        { "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx", "overall max length exceeded" },
        { "pzry9x0s0muk", "No separator character" },
        { "1pzry9x0s0muk", "Empty HRP" },
        { "x1b4n0q5v", "Invalid data character" },
        { "li1dgmt3", "Too short checksum" },
        { "de1lg7wt" + "\u00FF", "Invalid character in checksum" },
        { "A1G7SGD8", "checksum calculated with uppercase form of HRP" },
        { "10a06t8", "empty HRP" },
        { "1qzzfhee", "empty HRP" },
    };

    // BIP350 "Test vectors for Bech32m": strings that are not valid Bech32m, with the BIP's reason.
    public static TheoryData<string, string> InvalidBech32m => new()
    {
        { "\u0020" + "1xj0phk", "HRP character out of range" },
        { "\u007F" + "1g6xzxy", "HRP character out of range" },
        { "\u0080" + "1vctc34", "HRP character out of range" },
        { "an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4", "overall max length exceeded" },
        { "qyrz8wqd2c9m", "No separator character" },
        { "1qyrz8wqd2c9m", "Empty HRP" },
        { "y1b0jsk6g", "Invalid data character" },
        { "lt1igcx5c0", "Invalid data character" },
        { "in1muywd", "Too short checksum" },
        { "mm1crxm3i", "Invalid character in checksum" },
        { "au1s5cgom", "Invalid character in checksum" },
        { "M1VUXWEZ", "checksum calculated with uppercase form of HRP" },
        { "16plkw9", "empty HRP" },
        { "1p2gdwpf", "empty HRP" },
    };

    [Theory]
    [MemberData(nameof(ValidBech32))]
    public void Valid_bech32_strings_decode_as_bech32_and_re_encode(string text) => AssertRoundTrips(text, Bech32EncodingType.BECH32);

    [Theory]
    [MemberData(nameof(ValidBech32m))]
    public void Valid_bech32m_strings_decode_as_bech32m_and_re_encode(string text) => AssertRoundTrips(text, Bech32EncodingType.BECH32M);

    [Theory]
    [MemberData(nameof(InvalidBech32))]
    [MemberData(nameof(InvalidBech32m))]
    public void Invalid_strings_are_rejected_with_a_reason(string text, string reason)
    {
        var error = Record.Exception(() => Bech32Encoder.ExtractEncoderFromString(text).DecodeDataRaw(text, out _));

        Assert.True(error is FormatException or ArgumentException, reason);
        Assert.False(string.IsNullOrEmpty(error.Message));
    }

    [Fact]
    public void A_single_substitution_breaks_the_checksum()
    {
        const string valid = "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw";

        var corrupted = valid[..^1] + "y";

        Assert.ThrowsAny<FormatException>(() => Bech32Encoder.ExtractEncoderFromString(corrupted).DecodeDataRaw(corrupted, out _));
    }

    // NBitcoin's encoder is what addresses are validated and derived with; these are BIP173/BIP350's own checksum vectors.
    private static void AssertRoundTrips(string text, Bech32EncodingType variant)
    {
        var encoder = Bech32Encoder.ExtractEncoderFromString(text);

        var data = encoder.DecodeDataRaw(text, out var decodedVariant);

        Assert.Equal(variant, decodedVariant);
        Assert.Equal(text.ToLowerInvariant(), encoder.EncodeRaw(data, variant));
    }
}
