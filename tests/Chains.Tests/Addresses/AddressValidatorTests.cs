using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Networks;
using NBitcoin.DataEncoders;

namespace CryptoPay.Chains.Tests.Addresses;

public sealed class AddressValidatorTests
{
    // Regtest has no published vectors: these encode BIP173's example program (HASH160 of the generator key) and
    // BIP350's taproot program with the regtest human-readable parts.
    private static readonly byte[] ExampleKeyHash = Convert.FromHexString("751e76e8199196d454941c45d1b3a323f1433bd6");
    private static readonly byte[] ExampleTaprootKey = Convert.FromHexString("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
    private static readonly string BtcRegtestP2wpkh = Encoders.Bech32("bcrt").Encode(0, ExampleKeyHash);
    private static readonly string BtcRegtestP2tr = Encoders.Bech32("bcrt").Encode(1, ExampleTaprootKey);
    private static readonly string LtcRegtestP2wpkh = Encoders.Bech32("rltc").Encode(0, ExampleKeyHash);
    private static readonly string LtcTestnetP2wpkh = Encoders.Bech32("tltc").Encode(0, ExampleKeyHash);

    // Accepted addresses per network and chain, from BIP84, BIP173 "Examples", BIP350 test vectors, SLIP-0132's
    // test vectors, the Bitcoin wiki's address examples and the "abandon ×11 about" wallet vectors.
    public static TheoryData<string, NetworkChain, string, AddressKind> Accepted => new()
    {
        { "btc", NetworkChain.Mainnet, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", AddressKind.P2wpkh },
        { "btc", NetworkChain.Mainnet, "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", AddressKind.P2wpkh },
        { "btc", NetworkChain.Mainnet, "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3", AddressKind.P2wsh },
        { "btc", NetworkChain.Mainnet, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0", AddressKind.P2tr },
        { "btc", NetworkChain.Mainnet, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA", AddressKind.P2pkh },
        { "btc", NetworkChain.Mainnet, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", AddressKind.P2pkh },
        { "btc", NetworkChain.Mainnet, "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf", AddressKind.P2sh },
        { "btc", NetworkChain.Mainnet, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", AddressKind.P2sh },
        { "btc", NetworkChain.Testnet, "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx", AddressKind.P2wpkh },
        { "btc", NetworkChain.Testnet, "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", AddressKind.P2wsh },
        { "btc", NetworkChain.Testnet, "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c", AddressKind.P2tr },
        { "btc", NetworkChain.Testnet, "mkpZhYtJu2r87Js3pDiWJDmPte2NRZ8bJV", AddressKind.P2pkh },
        { "btc", NetworkChain.Testnet, "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2", AddressKind.P2sh },
        { "btc", NetworkChain.Regtest, BtcRegtestP2wpkh, AddressKind.P2wpkh },
        { "btc", NetworkChain.Regtest, BtcRegtestP2tr, AddressKind.P2tr },
        { "btc", NetworkChain.Regtest, "mkpZhYtJu2r87Js3pDiWJDmPte2NRZ8bJV", AddressKind.P2pkh },
        { "btc", NetworkChain.Regtest, "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2", AddressKind.P2sh },
        { "ltc", NetworkChain.Mainnet, "ltc1qjmxnz78nmc8nq77wuxh25n2es7rzm5c2rkk4wh", AddressKind.P2wpkh },
        { "ltc", NetworkChain.Mainnet, "LdP8Qox1VAhCzLJNqrr74YovaWYyNBUWvL", AddressKind.P2pkh },
        { "ltc", NetworkChain.Mainnet, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", AddressKind.P2sh },
        { "ltc", NetworkChain.Testnet, "mkpZhYtJu2r87Js3pDiWJDmPte2NRZ8bJV", AddressKind.P2pkh },
        { "ltc", NetworkChain.Testnet, LtcTestnetP2wpkh, AddressKind.P2wpkh },
        { "ltc", NetworkChain.Regtest, LtcRegtestP2wpkh, AddressKind.P2wpkh },
        { "ltc", NetworkChain.Regtest, "2Mww8dCYPUpKHofjgcXcBCEGmniw9CoaiD2", AddressKind.P2sh },
        { "eth", NetworkChain.Mainnet, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", AddressKind.Evm },
        { "eth", NetworkChain.Mainnet, "0x52908400098527886E0F7030069857D2E4169EE7", AddressKind.Evm },
        { "eth", NetworkChain.Regtest, "0xde709f2102306220921060314715629080e2fb77", AddressKind.Evm },
        { "bsc", NetworkChain.Mainnet, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", AddressKind.Evm },
        { "tron", NetworkChain.Mainnet, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", AddressKind.Tron },
        { "tron", NetworkChain.Mainnet, "TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH", AddressKind.Tron },
        { "sandbox", NetworkChain.Mainnet, "sbx_751e76e8199196d454941c45d1b3a323f1433bd6", AddressKind.Sandbox },
    };

    // Rejected addresses: other chains' formats, broken checksums, future segwit versions and malformed input.
    public static TheoryData<string, NetworkChain, string> Rejected => new()
    {
        { "btc", NetworkChain.Mainnet, "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx" },
        { "btc", NetworkChain.Mainnet, BtcRegtestP2wpkh },
        { "btc", NetworkChain.Mainnet, BtcRegtestP2tr },
        { "btc", NetworkChain.Mainnet, "ltc1qjmxnz78nmc8nq77wuxh25n2es7rzm5c2rkk4wh" },
        { "btc", NetworkChain.Mainnet, "mkpZhYtJu2r87Js3pDiWJDmPte2NRZ8bJV" },
        { "btc", NetworkChain.Mainnet, "LdP8Qox1VAhCzLJNqrr74YovaWYyNBUWvL" },
        { "btc", NetworkChain.Mainnet, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5" },
        { "btc", NetworkChain.Mainnet, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd" },
        { "btc", NetworkChain.Mainnet, "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y" },
        { "btc", NetworkChain.Mainnet, "BC1SW50QGDZ25J" },
        { "btc", NetworkChain.Mainnet, "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs" },
        { "btc", NetworkChain.Mainnet, "Bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4" },
        { "btc", NetworkChain.Mainnet, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3" },
        { "btc", NetworkChain.Mainnet, " bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu" },
        { "btc", NetworkChain.Mainnet, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t" },
        { "btc", NetworkChain.Regtest, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu" },
        { "btc", NetworkChain.Regtest, "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx" },
        { "btc", NetworkChain.Regtest, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA" },
        { "btc", NetworkChain.Testnet, BtcRegtestP2wpkh },
        { "btc", NetworkChain.Regtest, LtcRegtestP2wpkh },
        { "ltc", NetworkChain.Mainnet, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu" },
        { "ltc", NetworkChain.Mainnet, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA" },
        { "ltc", NetworkChain.Regtest, "ltc1qjmxnz78nmc8nq77wuxh25n2es7rzm5c2rkk4wh" },
        { "ltc", NetworkChain.Regtest, BtcRegtestP2wpkh },
        { "ltc", NetworkChain.Mainnet, LtcRegtestP2wpkh },
        { "eth", NetworkChain.Mainnet, "0x9858EfFD232B4033E47d90003D41EC34EcaEda95" },
        { "eth", NetworkChain.Mainnet, "0x9858efFD232B4033E47d90003D41EC34EcaEda94" },
        { "eth", NetworkChain.Mainnet, "9858EfFD232B4033E47d90003D41EC34EcaEda94" },
        { "eth", NetworkChain.Mainnet, "0x0000000000000000000000000000000000000000" },
        { "eth", NetworkChain.Mainnet, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t" },
        { "bsc", NetworkChain.Mainnet, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu" },
        { "tron", NetworkChain.Mainnet, "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c" },
        { "tron", NetworkChain.Mainnet, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u" },
        { "tron", NetworkChain.Mainnet, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA" },
        { "tron", NetworkChain.Mainnet, "41a614f803b6fd780986a42c78ec9c7f77e6ded13c" },
        { "sandbox", NetworkChain.Mainnet, "sbx_751E76E8199196D454941C45D1B3A323F1433BD6" },
        { "sandbox", NetworkChain.Mainnet, "sbx_751e76e8199196d454941c45d1b3a323f1433b" },
        { "sandbox", NetworkChain.Mainnet, "0x751e76e8199196d454941c45d1b3a323f1433bd6" },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void Accepts_valid_addresses_of_the_network_and_chain(string networkId, NetworkChain chain, string address, AddressKind kind)
    {
        var result = AddressValidator.Validate(Network.Get(networkId, chain), address);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(kind, result.Kind);
        Assert.Null(result.Reason);
        Assert.NotNull(result.NormalizedAddress);
    }

    [Theory]
    [MemberData(nameof(Rejected))]
    public void Rejects_with_a_reason(string networkId, NetworkChain chain, string address)
    {
        var result = AddressValidator.Validate(Network.Get(networkId, chain), address);

        Assert.False(result.IsValid);
        Assert.Equal(AddressKind.Unknown, result.Kind);
        Assert.False(string.IsNullOrWhiteSpace(result.Reason));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Empty_input_is_rejected(string? address)
    {
        Assert.False(AddressValidator.Validate(Network.Btc, address).IsValid);
    }

    [Fact]
    public void Utxo_results_carry_the_output_script()
    {
        // scriptPubKeys from BIP350's valid list and the standard P2PKH/P2SH templates of the SLIP-0132 addresses.
        Assert.Equal(
            "0014751e76e8199196d454941c45d1b3a323f1433bd6",
            Convert.ToHexStringLower(AddressValidator.Validate(Network.Btc, "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4").ScriptPubKey.Span));
        Assert.Matches("^76a914[0-9a-f]{40}88ac$", Convert.ToHexStringLower(AddressValidator.Validate(Network.Btc, "1LqBGSKuX5yYUonjxT5qGfpUsXKYYWeabA").ScriptPubKey.Span));
        Assert.Matches("^a914[0-9a-f]{40}87$", Convert.ToHexStringLower(AddressValidator.Validate(Network.Btc, "37VucYSaXLCAsxYyAPfbSi9eh4iEcbShgf").ScriptPubKey.Span));
    }

    [Fact]
    public void Normalized_forms_are_lowercase_bech32_and_eip55()
    {
        Assert.Equal("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", AddressValidator.Validate(Network.Btc, "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4").NormalizedAddress);
        Assert.Equal("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", AddressValidator.Validate(Network.Eth, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed").NormalizedAddress);
    }

    [Fact]
    public void A_testnet_address_on_mainnet_names_the_mix_up()
    {
        var result = AddressValidator.Validate(Network.Btc, "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx");

        Assert.Contains("'tb'", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_future_witness_version_is_refused_even_though_bip350_decodes_it()
    {
        var result = AddressValidator.Validate(Network.Btc, "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs");

        Assert.Contains("witness version 2", result.Reason, StringComparison.Ordinal);
    }
}
