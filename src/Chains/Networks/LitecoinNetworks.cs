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
    private static readonly Lazy<NBitcoin.Network> LazyMainnet = new(() => Build(
        NetworkChain.Mainnet,
        name: "ltc-mainnet",
        chainName: ChainName.Mainnet,
        magic: 0xdbb6c0fb,
        port: 9333,
        rpcPort: 9332,
        pubKeyHash: 48,
        scriptHash: 50,
        secretKey: 176,
        extPubKey: [0x04, 0x88, 0xB2, 0x1E],
        extSecretKey: [0x04, 0x88, 0xAD, 0xE4],
        hrp: "ltc",
        genesisTimeAndBits: "b9aa8e4ef0ff0f1ecd513f7c"));

    private static readonly Lazy<NBitcoin.Network> LazyTestnet = new(() => Build(
        NetworkChain.Testnet,
        name: "ltc-testnet",
        chainName: ChainName.Testnet,
        magic: 0xf1c8d2fd,
        port: 19335,
        rpcPort: 19332,
        pubKeyHash: 111,
        scriptHash: 58,
        secretKey: 239,
        extPubKey: [0x04, 0x35, 0x87, 0xCF],
        extSecretKey: [0x04, 0x35, 0x83, 0x94],
        hrp: "tltc",
        genesisTimeAndBits: "f60ba158f0ff0f1ee1790400"));

    private static readonly Lazy<NBitcoin.Network> LazyRegtest = new(() => Build(
        NetworkChain.Regtest,
        name: "ltc-regtest",
        chainName: ChainName.Regtest,
        magic: 0xdab5bffa,
        port: 19444,
        rpcPort: 19443,
        pubKeyHash: 111,
        scriptHash: 58,
        secretKey: 239,
        extPubKey: [0x04, 0x35, 0x87, 0xCF],
        extSecretKey: [0x04, 0x35, 0x83, 0x94],
        hrp: "rltc",
        genesisTimeAndBits: "dae5494dffff7f2000000000"));

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
        NetworkChain chain,
        string name,
        ChainName chainName,
        uint magic,
        int port,
        int rpcPort,
        byte pubKeyHash,
        byte scriptHash,
        byte secretKey,
        byte[] extPubKey,
        byte[] extSecretKey,
        string hrp,
        string genesisTimeAndBits)
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
            .SetName(name)
            .SetChainName(chainName)
            .SetNetworkSet(LitecoinNetworkSet.Instance)
            .SetConsensus(consensus)
            .SetMagic(magic)
            .SetPort(port)
            .SetRPCPort(rpcPort)
            .SetUriScheme("litecoin")
            .SetBase58Bytes(Base58Type.PUBKEY_ADDRESS, [pubKeyHash])
            .SetBase58Bytes(Base58Type.SCRIPT_ADDRESS, [scriptHash])
            .SetBase58Bytes(Base58Type.SECRET_KEY, [secretKey])
            .SetBase58Bytes(Base58Type.EXT_PUBLIC_KEY, extPubKey)
            .SetBase58Bytes(Base58Type.EXT_SECRET_KEY, extSecretKey)
            .SetBech32(Bech32Type.WITNESS_PUBKEY_ADDRESS, Encoders.Bech32(hrp))
            .SetBech32(Bech32Type.WITNESS_SCRIPT_ADDRESS, Encoders.Bech32(hrp))
            .SetBech32(Bech32Type.TAPROOT_ADDRESS, Encoders.Bech32(hrp))
            .SetGenesis(GenesisHeaderPrefix + genesisTimeAndBits + GenesisTransactions)
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
