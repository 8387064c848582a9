using CryptoPay.Chains.Networks;
using NBitcoin;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Chains.Tests.Networks;

public sealed class NetworkTests
{
    // BIP173 (bc/tb), Bitcoin Core and Litecoin Core chain parameters (bcrt; ltc/tltc/rltc; base58 version bytes;
    // Litecoin's P2SH prefix 0x32/0x3a and the Bitcoin-era one its nodes still accept; genesis block hashes).
    public static TheoryData<string, NetworkChain, string, byte, byte[], string> UtxoParameters => new()
    {
        { "btc", NetworkChain.Mainnet, "bc", 0x00, [0x05], "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f" },
        { "btc", NetworkChain.Testnet, "tb", 0x6f, [0xc4], "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943" },
        { "btc", NetworkChain.Regtest, "bcrt", 0x6f, [0xc4], "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206" },
        { "ltc", NetworkChain.Mainnet, "ltc", 0x30, [0x32, 0x05], "12a765e31ffd4059bada1e25190f6e98c99d9714d334efa41a195a7e7e04bfe2" },
        { "ltc", NetworkChain.Testnet, "tltc", 0x6f, [0x3a, 0xc4], "4966625a4b2851d9fdee139e56211a0d88575f59ed816ff5e6a63deb4e3e29a0" },
        { "ltc", NetworkChain.Regtest, "rltc", 0x6f, [0x3a, 0xc4], "530827f38f93b43ed12af0b3ad25a288dc02ed74d6d7857862df51fc56c416f9" },
    };

    [Theory]
    [MemberData(nameof(UtxoParameters))]
    public void Utxo_networks_carry_their_address_parameters(string id, NetworkChain chain, string hrp, byte pubKeyHash, byte[] scriptHash, string genesis)
    {
        var network = Network.Get(id, chain);
        var utxo = network.UtxoNetwork!;

        Assert.Equal(NetworkFamily.Utxo, network.Family);
        Assert.Equal(hrp, network.Bech32Hrp);
        Assert.Equal(pubKeyHash, utxo.GetVersionBytes(Base58Type.PUBKEY_ADDRESS, true)![0]);
        Assert.Equal(scriptHash[0], utxo.GetVersionBytes(Base58Type.SCRIPT_ADDRESS, true)![0]);
        Assert.Equal(scriptHash[^1], id == "ltc" ? LitecoinNetworks.LegacyScriptHashVersion(chain) : utxo.GetVersionBytes(Base58Type.SCRIPT_ADDRESS, true)![0]);
        Assert.Equal(genesis, utxo.GenesisHash.ToString());
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
        Assert.Equal(accountPath, "m/" + network.AccountPath());
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
