using NBitcoin;
using NBitcoin.DataEncoders;

namespace CryptoPay.Chains.Networks;

/// <summary>
/// Litecoin's mainnet, testnet and regtest as NBitcoin networks (NBitcoin.Altcoins is not available), built once with
/// NBitcoin's <see cref="NetworkBuilder"/> from Litecoin Core 0.21's chain parameters. The genesis blocks are the raw
/// blocks litecoind returns for <c>getblock (getblockhash 0) 0</c> on each chain; tests check their hashes
/// (12a765e3…, 4966625a…, 530827f3…) and regtest's against a running node.
/// </summary>
public static class LitecoinNetworks
{
    private static readonly Lazy<NBitcoin.Network> LazyMainnet = new(() =>
        Build(NetworkChain.Mainnet, ChainName.Mainnet, magic: 0xdbb6c0fb, port: 9333, rpcPort: 9332, hrp: "ltc", genesisTimeBitsNonce: "b9aa8e4ef0ff0f1ecd513f7c"));

    private static readonly Lazy<NBitcoin.Network> LazyTestnet = new(() =>
        Build(NetworkChain.Testnet, ChainName.Testnet, magic: 0xf1c8d2fd, port: 19335, rpcPort: 19332, hrp: "tltc", genesisTimeBitsNonce: "f60ba158f0ff0f1ee1790400"));

    private static readonly Lazy<NBitcoin.Network> LazyRegtest = new(() =>
        Build(NetworkChain.Regtest, ChainName.Regtest, magic: 0xdab5bffa, port: 19444, rpcPort: 19443, hrp: "rltc", genesisTimeBitsNonce: "dae5494dffff7f2000000000"));

    public static NBitcoin.Network Mainnet => LazyMainnet.Value;

    public static NBitcoin.Network Testnet => LazyTestnet.Value;

    public static NBitcoin.Network Regtest => LazyRegtest.Value;

    public static NBitcoin.Network For(NetworkChain chain) => chain switch
    {
        NetworkChain.Mainnet => Mainnet,
        NetworkChain.Testnet => Testnet,
        _ => Regtest,
    };

    /// <summary>
    /// Litecoin Core still accepts P2SH addresses with Bitcoin's version byte (SCRIPT_ADDRESS; its own M…/Q… prefix is
    /// SCRIPT_ADDRESS2). NBitcoin networks carry one P2SH prefix, so this is the other one.
    /// </summary>
    public static byte LegacyScriptHashVersion(NetworkChain chain) => chain == NetworkChain.Mainnet ? (byte)0x05 : (byte)0xc4;

    // The three genesis blocks share their merkle root and coinbase ("NY Times 05/Oct/2011 …"); only time, bits and nonce differ.
    private const string GenesisHeaderPrefix = "01000000" + "0000000000000000000000000000000000000000000000000000000000000000"
        + "d9ced4ed1130f7b7faad9be25323ffafa33232a17c3edf6cfd97bee6bafbdd97";

    private const string GenesisTransactions = "01" + "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff"
        + "4804ffff001d0104404e592054696d65732030352f4f63742f32303131205374657665204a6f62732c204170706c65e280997320566973696f6e6172792c2044696573206174203536"
        + "ffffffff0100f2052a010000004341040184710fa689ad5023690c80f3a49c8f13f8d45b8c857fbcbc8bc4a8e4d3eb4b10f4d4604fa08dce601aaf0f470216fe1b51850b4acf21b179c45070ac7b03a9ac00000000";

    private static NBitcoin.Network Build(
        NetworkChain chain, ChainName chainName, uint magic, int port, int rpcPort, string hrp, string genesisTimeBitsNonce)
    {
        var mainnet = chain == NetworkChain.Mainnet;
        var consensus = new Consensus
        {
            SubsidyHalvingInterval = chain == NetworkChain.Regtest ? 150 : 840_000,
            PowLimit = new Target(uint256.Parse(chain == NetworkChain.Regtest
                ? "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                : "00000fffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")),
            PowTargetTimespan = TimeSpan.FromSeconds(3.5 * 24 * 60 * 60),
            PowTargetSpacing = TimeSpan.FromSeconds(2.5 * 60),
            PowAllowMinDifficultyBlocks = !mainnet,
            PowNoRetargeting = chain == NetworkChain.Regtest,
            RuleChangeActivationThreshold = mainnet ? 6048 : 1512,
            MinerConfirmationWindow = mainnet ? 8064 : 2016,
            CoinbaseMaturity = 100,
            CoinType = mainnet ? 2 : 1,
            LitecoinWorkCalculation = true,
            SupportSegwit = true,
            SupportTaproot = true,
        };

        return new NetworkBuilder()
            .SetName("ltc-" + chain.ToString().ToLowerInvariant())
            .SetChainName(chainName)
            .SetNetworkSet(LitecoinNetworkSet.Instance)
            .SetConsensus(consensus)
            .SetMagic(magic)
            .SetPort(port)
            .SetRPCPort(rpcPort)
            .SetUriScheme("litecoin")
            // Testnet and regtest share their base58 prefixes (and Bitcoin testnet's P2PKH byte and tpub/tprv).
            .SetBase58Bytes(Base58Type.PUBKEY_ADDRESS, [mainnet ? (byte)48 : (byte)111])
            .SetBase58Bytes(Base58Type.SCRIPT_ADDRESS, [mainnet ? (byte)50 : (byte)58])
            .SetBase58Bytes(Base58Type.SECRET_KEY, [mainnet ? (byte)176 : (byte)239])
            .SetBase58Bytes(Base58Type.EXT_PUBLIC_KEY, mainnet ? [0x04, 0x88, 0xB2, 0x1E] : [0x04, 0x35, 0x87, 0xCF])
            .SetBase58Bytes(Base58Type.EXT_SECRET_KEY, mainnet ? [0x04, 0x88, 0xAD, 0xE4] : [0x04, 0x35, 0x83, 0x94])
            .SetBech32(Bech32Type.WITNESS_PUBKEY_ADDRESS, Encoders.Bech32(hrp))
            .SetBech32(Bech32Type.WITNESS_SCRIPT_ADDRESS, Encoders.Bech32(hrp))
            .SetBech32(Bech32Type.TAPROOT_ADDRESS, Encoders.Bech32(hrp))
            .SetGenesis(GenesisHeaderPrefix + genesisTimeBitsNonce + GenesisTransactions)
            .BuildAndRegister();
    }

    /// <summary>NBitcoin groups a coin's chains in a network set; this one answers for the three Litecoin networks.</summary>
    private sealed class LitecoinNetworkSet : INetworkSet
    {
        public static readonly LitecoinNetworkSet Instance = new();

        public NBitcoin.Network Mainnet => LitecoinNetworks.Mainnet;

        public NBitcoin.Network Testnet => LitecoinNetworks.Testnet;

        public NBitcoin.Network Regtest => LitecoinNetworks.Regtest;

        public string CryptoCode => "LTC";

        public NBitcoin.Network GetNetwork(ChainName chainName) =>
            chainName == ChainName.Mainnet ? Mainnet : chainName == ChainName.Testnet ? Testnet : chainName == ChainName.Regtest ? Regtest
            : throw new NotSupportedException($"Litecoin has no {chainName} chain here.");
    }
}
