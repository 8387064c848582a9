using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using NBitcoin;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Chains.Tests.Hd;

public sealed class AddressDeriverTests
{
    // BIP84's root node for the mnemonic "abandon ×11 about" (its seed is the same whatever the version bytes).
    private const string AbandonRoot = "zprvAWgYBBk7JR8Gjrh4UJQ2uJdG1r3WNRRfURiABBE3RvMXYSrRJL62XuezvGdPvG6GFBZduosCc1YP5wixPox7zhZLfiUm8aunE96BBa4Kei5";

    // Addresses of the "abandon ×11 about" mnemonic as published by independent wallet test suites
    // (Trust Wallet Core, Ledger's TRON app test, bitcoinjs): network, chain, account path, index, address.
    public static TheoryData<string, NetworkChain, string, uint, string> PublishedAddresses => new()
    {
        { "btc", NetworkChain.Mainnet, "m/84'/0'/0'", 0, "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu" },
        { "btc", NetworkChain.Testnet, "m/84'/1'/0'", 0, "tb1q6rz28mcfaxtmd6v789l9rrlrusdprr9pqcpvkl" },
        { "btc", NetworkChain.Testnet, "m/84'/1'/0'", 1, "tb1qd7spv5q28348xl4myc8zmh983w5jx32cjhkn97" },
        { "ltc", NetworkChain.Mainnet, "m/84'/2'/0'", 0, "ltc1qjmxnz78nmc8nq77wuxh25n2es7rzm5c2rkk4wh" },
        { "ltc", NetworkChain.Mainnet, "m/84'/2'/0'", 1, "ltc1qwlezpr3890hcp6vva9twqh27mr6edadreqvhnn" },
        { "eth", NetworkChain.Mainnet, "m/44'/60'/0'", 0, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94" },
        { "bsc", NetworkChain.Mainnet, "m/44'/60'/0'", 0, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94" },
        { "tron", NetworkChain.Mainnet, "m/44'/195'/0'", 0, "TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH" },
        { "tron", NetworkChain.Mainnet, "m/44'/195'/0'", 1, "TSeJkUh4Qv67VNFwY8LaAxERygNdy6NQZK" },
        { "tron", NetworkChain.Mainnet, "m/44'/195'/0'", 2, "TYJPRrdB5APNeRs4R7fYZSwW3TcrTKw2gx" },
        { "tron", NetworkChain.Mainnet, "m/44'/195'/0'", 3, "TRhVWK5XEDkQBDevcdCWW7RW51aRncty4W" },
        { "tron", NetworkChain.Mainnet, "m/44'/195'/0'", 4, "TT2X2yyubp7qpAWYYNE5JQWBtoZ7ikQFsY" },
    };

    [Theory]
    [MemberData(nameof(PublishedAddresses))]
    public void Derives_the_published_receive_address(string networkId, NetworkChain chain, string accountPath, uint index, string expected)
    {
        var network = Network.Get(networkId, chain);
        var accountKey = AccountKey(accountPath, network.AccountKeyVersions[0]);

        var address = new AddressDeriver(network, accountKey).DeriveReceiveAddress(index);

        Assert.Equal(expected, address);
        Assert.True(AddressValidator.Validate(network, address).IsValid);
    }

    [Fact]
    public void The_master_fingerprint_of_the_abandon_mnemonic_is_73c5da0a()
    {
        // The fingerprint wallets print in descriptors for this mnemonic: [73c5da0a/84'/0'/0'].
        Assert.Equal(0x73c5da0au, ExtendedKey.Parse(AbandonRoot).Fingerprint);
    }

    [Fact]
    public void Litecoin_change_address_matches_published_value()
    {
        var change = ExtendedKey.Parse(AbandonRoot).Derive("m/84'/2'/0'/1/0");

        Assert.Equal("ltc1qyeljcy9v88jg8sqvnqh0m5q390xruc5r98q9yy", P2wpkh(change.PublicKey, Network.Ltc));
    }

    [Fact]
    public void Testnet_account_key_is_the_published_vpub()
    {
        var account = AccountKey("m/84'/1'/0'", ExtendedKeyVersion.Vpub);

        Assert.Equal("vpub5Y6cjg78GGuNLsaPhmYsiw4gYX3HoQiRBiSwDaBXKUafCt9bNwWQiitDk5VZ5BVxYnQdwoTyXSs2JHRPAgjAvtbBrf8ZhDYe2jWAqvZVnsc", account.ToString());
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    [InlineData(19u)]
    [InlineData(1_000_000u)]
    [InlineData(0x7fffffffu)]
    public void Fast_path_agrees_with_full_bip32_derivation(uint index)
    {
        var account = AccountKey("m/84'/0'/0'", ExtendedKeyVersion.Zpub);
        var deriver = new AddressDeriver(Network.Btc, account);

        var expected = account.Derive(0).Derive(index).PublicKey.ToArray();

        Assert.Equal(expected, deriver.DeriveReceivePublicKey(index));
        Assert.Equal(P2wpkh(expected, Network.Btc), deriver.DeriveReceiveAddress(index));
    }

    [Theory]
    [InlineData(NetworkChain.Regtest, "bcrt1q")]
    [InlineData(NetworkChain.Testnet, "tb1q")]
    public void Bitcoin_test_chains_use_their_own_prefix(NetworkChain chain, string prefix)
    {
        var network = Network.Bitcoin(chain);
        var deriver = new AddressDeriver(network, AccountKey("m/84'/1'/0'", ExtendedKeyVersion.Vpub));

        var address = deriver.DeriveReceiveAddress(0);

        Assert.StartsWith(prefix, address, StringComparison.Ordinal);
        Assert.Equal(AddressKind.P2wpkh, AddressValidator.Validate(network, address).Kind);
        Assert.False(AddressValidator.Validate(Network.Btc, address).IsValid);
    }

    [Fact]
    public void Litecoin_regtest_addresses_start_with_rltc()
    {
        var deriver = new AddressDeriver(Network.Litecoin(NetworkChain.Regtest), AccountKey("m/84'/1'/0'", ExtendedKeyVersion.Tpub));

        Assert.StartsWith("rltc1q", deriver.DeriveReceiveAddress(7), StringComparison.Ordinal);
    }

    [Fact]
    public void Sandbox_addresses_are_sbx_hash160_hex()
    {
        var deriver = new AddressDeriver(Network.Sandbox, AccountKey("m/44'/1'/0'", ExtendedKeyVersion.Xpub));

        var address = deriver.DeriveReceiveAddress(3);

        Assert.Equal(SandboxAddress.FromPublicKey(deriver.DeriveReceivePublicKey(3)), address);
        Assert.Matches("^sbx_[0-9a-f]{40}$", address);
        Assert.True(AddressValidator.Validate(Network.Sandbox, address).IsValid);
    }

    [Fact]
    public void A_private_account_key_is_neutered()
    {
        var deriver = new AddressDeriver(Network.Btc, ExtendedKey.Parse(AbandonRoot).Derive("m/84'/0'/0'"));

        Assert.False(deriver.AccountKey.IsPrivate);
        Assert.Equal("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", deriver.DeriveReceiveAddress(0));
    }

    [Fact]
    public void Hardened_indexes_are_refused()
    {
        var deriver = new AddressDeriver(Network.Btc, AccountKey("m/84'/0'/0'", ExtendedKeyVersion.Zpub));

        Assert.Throws<ArgumentOutOfRangeException>(() => deriver.DeriveReceiveAddress(Bip32.HardenedOffset));
    }

    [Theory]
    [InlineData("btc", NetworkChain.Mainnet, "tpub")]
    [InlineData("btc", NetworkChain.Mainnet, "vpub")]
    [InlineData("btc", NetworkChain.Regtest, "zpub")]
    [InlineData("btc", NetworkChain.Mainnet, "ypub")]
    [InlineData("ltc", NetworkChain.Mainnet, "tpub")]
    [InlineData("eth", NetworkChain.Mainnet, "zpub")]
    [InlineData("tron", NetworkChain.Mainnet, "ypub")]
    public void An_account_key_for_another_chain_or_script_is_refused(string networkId, NetworkChain chain, string prefix)
    {
        var version = ExtendedKeyVersion.Known.Single(v => v.PublicPrefix == prefix);
        var key = AccountKey("m/84'/0'/0'", version);

        var exception = Assert.Throws<ArgumentException>(() => new AddressDeriver(Network.Get(networkId, chain), key));

        Assert.Contains(prefix, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Concurrent_callers_get_the_same_addresses()
    {
        var deriver = new AddressDeriver(Network.Eth, AccountKey("m/44'/60'/0'", ExtendedKeyVersion.Xpub));
        var sequential = Enumerable.Range(0, 64).Select(i => deriver.DeriveReceiveAddress((uint)i)).ToArray();

        var parallel = new string[64];
        Parallel.For(0, 64, i => parallel[i] = deriver.DeriveReceiveAddress((uint)i));

        Assert.Equal(sequential, parallel);
        Assert.Equal(64, sequential.Distinct().Count());
    }

    private static string P2wpkh(ReadOnlySpan<byte> publicKey, Network network) =>
        new PubKey(publicKey).GetAddress(ScriptPubKeyType.Segwit, network.UtxoNetwork!).ToString();

    private static ExtendedKey AccountKey(string path, ExtendedKeyVersion version) =>
        ExtendedKey.Parse(AbandonRoot).Derive(path).Neuter().WithVersion(version);
}
