using CryptoPay.Chains.Addresses;

namespace CryptoPay.Chains.Tests.Addresses;

public sealed class EvmAddressTests
{
    // EIP-55 "Test Cases": all caps, all lower and normal (mixed-case) checksummed addresses.
    public static TheoryData<string> Eip55Examples => new()
    {
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    };

    [Theory]
    [MemberData(nameof(Eip55Examples))]
    public void Checksum_encoding_reproduces_the_eip55_examples(string address)
    {
        var bytes = Convert.FromHexString(address[2..]);

        Assert.Equal(address, EvmAddress.ToChecksumAddress(bytes));
        Assert.Equal(address, EvmAddress.ToChecksumAddress(address.ToLowerInvariant()));
        Assert.True(EvmAddress.TryParse(address, out var parsed, out var error), error);
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [MemberData(nameof(Eip55Examples))]
    public void Flipping_the_case_of_one_letter_breaks_a_mixed_case_checksum(string address)
    {
        var letter = address.IndexOfAny("abcdefABCDEF".ToCharArray(), 2);
        var flipped = address[..letter] + (char.IsUpper(address[letter]) ? char.ToLowerInvariant(address[letter]) : char.ToUpperInvariant(address[letter])) + address[(letter + 1)..];
        var digits = flipped[2..];
        var isSingleCase = digits == digits.ToLowerInvariant() || digits == digits.ToUpperInvariant();

        // A flip that leaves the address all one case is accepted as unchecksummed; any other flip must fail.
        Assert.Equal(isSingleCase, EvmAddress.TryParse(flipped, out _, out _));
    }

    [Fact]
    public void Lowercase_and_uppercase_forms_are_accepted_without_checksum()
    {
        const string address = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359";

        Assert.True(EvmAddress.TryParse(address.ToLowerInvariant(), out _, out _));
        Assert.True(EvmAddress.TryParse("0x" + address[2..].ToUpperInvariant(), out _, out _));
    }

    [Theory]
    [InlineData("fB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d35")]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d3590")]
    [InlineData("0xgB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    [InlineData("0XfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    public void Malformed_addresses_are_rejected(string address)
    {
        Assert.False(EvmAddress.TryParse(address, out _, out var error));
        Assert.NotNull(error);
    }

    [Fact]
    public void Compressed_and_uncompressed_keys_give_the_same_address()
    {
        // The BIP173 example key is the secp256k1 generator, i.e. the public key of private key 1.
        var compressed = new NBitcoin.PubKey("0279BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798");

        Assert.Equal(EvmAddress.FromPublicKey(compressed), EvmAddress.FromPublicKey(compressed.Decompress()));
        // Private key 1's address, as every Ethereum tool prints it.
        Assert.Equal("0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", EvmAddress.FromPublicKey(compressed));
    }
}
