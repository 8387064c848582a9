using CryptoPay.Chains.Encoding;

namespace CryptoPay.Chains.Tests.Encoding;

public sealed class Base58CheckTests
{
    // Bitcoin wiki "Technical background of version 1 Bitcoin addresses": the worked example's
    // version ‖ HASH160 payload and its address; leading zero bytes become leading '1's.
    [Fact]
    public void Encodes_the_wiki_example_address()
    {
        var payload = Convert.FromHexString("00f54a5851e9372b87810a8e60cdd2e7cfd80b6e31");

        Assert.Equal("1PMycacnJaSqwwJqjawXBErnLsZ7RkXUAs", Base58Check.Encode(payload));
        Assert.Equal(payload, Base58Check.Decode("1PMycacnJaSqwwJqjawXBErnLsZ7RkXUAs"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("0000ff")]
    [InlineData("61")]
    [InlineData("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")]
    public void Round_trips_arbitrary_payloads(string payloadHex)
    {
        var payload = Convert.FromHexString(payloadHex);

        Assert.Equal(payload, Base58Check.Decode(Base58Check.Encode(payload)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("1PMycacnJaSqwwJqjawXBErnLsZ7RkXUAt")]
    [InlineData("1PMycacnJaSqwwJqjawXBErnLsZ7RkXUAI")]
    [InlineData("1111")]
    public void Rejects_bad_characters_checksums_and_short_input(string text)
    {
        Assert.False(Base58Check.TryDecode(text, out _, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void Plain_base58_keeps_leading_zero_bytes()
    {
        Assert.Equal("111", Base58.Encode(new byte[3]));
        Assert.True(Base58.TryDecode("111", out var zeros));
        Assert.Equal(new byte[3], zeros);
        Assert.Equal("2g", Base58.Encode("a"u8));
    }
}
