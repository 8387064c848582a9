using CryptoPay.Chains.Networks;

namespace CryptoPay.Chains.Tests.Networks;

public sealed class NetworkTests
{
    // BIP173 (bc/tb), Bitcoin Core and Litecoin Core chain parameters (bcrt; ltc/tltc/rltc; base58 version bytes).
    public static TheoryData<string, NetworkChain, string, byte, byte[]> UtxoParameters => new()
    {
        { "btc", NetworkChain.Mainnet, "bc", 0x00, [0x05] },
        { "btc", NetworkChain.Testnet, "tb", 0x6f, [0xc4] },
        { "btc", NetworkChain.Regtest, "bcrt", 0x6f, [0xc4] },
        { "ltc", NetworkChain.Mainnet, "ltc", 0x30, [0x32, 0x05] },
        { "ltc", NetworkChain.Testnet, "tltc", 0x6f, [0x3a, 0xc4] },
        { "ltc", NetworkChain.Regtest, "rltc", 0x6f, [0x3a, 0xc4] },
    };

    [Theory]
    [MemberData(nameof(UtxoParameters))]
    public void Utxo_networks_carry_their_address_parameters(string id, NetworkChain chain, string hrp, byte pubKeyHash, byte[] scriptHash)
    {
        var network = Network.Get(id, chain);

        Assert.Equal(NetworkFamily.Utxo, network.Family);
        Assert.Equal(hrp, network.Bech32Hrp);
        Assert.Equal(pubKeyHash, network.PubKeyHashVersion);
        Assert.Equal(scriptHash, network.ScriptHashVersions);
    }

    // ARCHITECTURE.md "Chains": families, account paths and default confirmations.
    [Theory]
    [InlineData("btc", NetworkFamily.Utxo, "m/84'/0'/0'", 2)]
    [InlineData("ltc", NetworkFamily.Utxo, "m/84'/2'/0'", 6)]
    [InlineData("eth", NetworkFamily.Evm, "m/44'/60'/0'", 12)]
    [InlineData("bsc", NetworkFamily.Evm, "m/44'/60'/0'", 15)]
    [InlineData("tron", NetworkFamily.Tron, "m/44'/195'/0'", 19)]
    [InlineData("sandbox", NetworkFamily.Sandbox, "m/44'/1'/0'", 1)]
    public void Networks_match_the_architecture_table(string id, NetworkFamily family, string accountPath, int confirmations)
    {
        var network = Network.Get(id);

        Assert.Equal(family, network.Family);
        Assert.Equal(accountPath, network.AccountPath().ToString());
        Assert.Equal(confirmations, network.DefaultConfirmations);
        Assert.Equal(NetworkChain.Mainnet, network.Chain);
    }

    [Fact]
    public void Evm_chain_ids_are_set_for_mainnets()
    {
        Assert.Equal(1, Network.Eth.EvmChainId);
        Assert.Equal(56, Network.Bsc.EvmChainId);
        Assert.Null(Network.Ethereum(NetworkChain.Regtest).EvmChainId);
    }

    [Fact]
    public void Equality_is_by_id_and_chain_and_overrides_keep_identity()
    {
        var tuned = Network.Btc with { DefaultConfirmations = 3 };

        Assert.Equal(Network.Btc, Network.Get("BTC"));
        Assert.Equal(Network.Btc, tuned);
        Assert.Equal(3, tuned.DefaultConfirmations);
        Assert.NotEqual(Network.Btc, Network.Bitcoin(NetworkChain.Regtest));
        Assert.Equal("btc-regtest", Network.Bitcoin(NetworkChain.Regtest).ToString());
    }

    [Fact]
    public void Unknown_ids_are_refused()
    {
        Assert.False(Network.TryGet("doge", NetworkChain.Mainnet, out _));
        Assert.Throws<ArgumentException>(() => Network.Get("doge"));
    }
}
