using CryptoPay.Chains.Addresses;

namespace CryptoPay.Chains.Tests.Addresses;

public sealed class TronAddressTests
{
    // Published TRON base58 ⇄ hex pairs: Tether's USDT TRC-20 contract (tronscan), the CryptoTron::AddrTools
    // synopsis (metacpan) and Dune's from_tron_address documentation.
    public static TheoryData<string, string> KnownPairs => new()
    {
        { "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c" },
        { "TQHgMpVzWkhSsRB4BzZgmV8uW4cFL8eaBr", "419d1015e669c2df831003c5c54ceb48da613d9979" },
        { "THHRK1bA7YRPZBcLnTP1SZy9ipUpsRwpo6", "41503aa4ad108bd3a89ba0310e23b49fb654cd6986" },
    };

    [Theory]
    [MemberData(nameof(KnownPairs))]
    public void Base58_and_hex_forms_convert_both_ways(string base58, string hex)
    {
        Assert.Equal(hex, TronAddress.ToHex(base58));
        Assert.Equal(base58, TronAddress.FromHex(hex));
        Assert.Equal(base58, TronAddress.FromHex(hex.ToUpperInvariant()));
    }

    [Theory]
    [MemberData(nameof(KnownPairs))]
    public void Tron_and_evm_forms_share_the_20_account_bytes(string base58, string hex)
    {
        var evm = TronAddress.ToEvmAddress(base58);

        Assert.Equal("0x" + hex[2..], evm.ToLowerInvariant());
        Assert.True(EvmAddress.TryParse(evm, out _, out _));
        Assert.Equal(base58, TronAddress.FromEvmAddress(evm));
        Assert.Equal(base58, TronAddress.FromEvmAddress(evm.ToLowerInvariant()));
    }

    [Theory]
    [InlineData("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", "checksum")]
    [InlineData("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "prefix")]
    [InlineData("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj0t", "base58")]
    [InlineData("", "empty")]
    public void Invalid_tron_addresses_are_rejected(string address, string expectedReason)
    {
        Assert.False(TronAddress.TryDecode(address, out _, out var error));
        Assert.Contains(expectedReason, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a614f803b6fd780986a42c78ec9c7f77e6ded13c")]
    [InlineData("42a614f803b6fd780986a42c78ec9c7f77e6ded13c")]
    [InlineData("41a614f803b6fd780986a42c78ec9c7f77e6ded1zz")]
    public void Hex_without_the_41_prefix_or_with_bad_digits_is_rejected(string hex)
    {
        Assert.Throws<FormatException>(() => TronAddress.FromHex(hex));
    }
}
