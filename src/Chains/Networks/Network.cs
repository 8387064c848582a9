using CryptoPay.Chains.Hd;

namespace CryptoPay.Chains.Networks;

/// <summary>
/// A supported network on one chain (mainnet, testnet or regtest): its address parameters, its BIP44 coin type,
/// the default number of confirmations and its native asset. Equality is by <see cref="Id"/> and <see cref="Chain"/>.
/// Settings an operator may change (confirmations, EVM chain id) can be overridden with a <c>with</c> expression.
/// </summary>
public sealed record Network
{
    private Network(string id, NetworkFamily family, NetworkChain chain)
    {
        Id = id;
        Family = family;
        Chain = chain;
    }

    public static Network Btc { get; } = Bitcoin(NetworkChain.Mainnet);

    public static Network Ltc { get; } = Litecoin(NetworkChain.Mainnet);

    public static Network Eth { get; } = Ethereum(NetworkChain.Mainnet);

    public static Network Bsc { get; } = BinanceSmartChain(NetworkChain.Mainnet);

    public static Network Tron { get; } = TronNetwork(NetworkChain.Mainnet);

    public static Network Sandbox { get; } = SandboxNetwork(NetworkChain.Mainnet);

    public static IReadOnlyList<string> Ids { get; } = ["btc", "ltc", "eth", "bsc", "tron", "sandbox"];

    /// <summary>The short identifier used in configuration, storage and APIs: btc, ltc, eth, bsc, tron, sandbox.</summary>
    public string Id { get; }

    public NetworkFamily Family { get; }

    public NetworkChain Chain { get; }

    public string NativeSymbol { get; private init; } = string.Empty;

    /// <summary>Decimal places of the native asset's smallest unit (satoshi, wei, sun).</summary>
    public int NativeDecimals { get; private init; }

    public int DefaultConfirmations { get; init; }

    /// <summary>BIP43 purpose of the account path: 84 (native segwit) for UTXO networks, 44 otherwise.</summary>
    public int Purpose { get; private init; }

    /// <summary>SLIP-44 coin type; 1 on UTXO test chains as BIP44 prescribes.</summary>
    public int CoinType { get; private init; }

    /// <summary>EIP-155 chain id for EVM-style networks on mainnet; null where it has to come from the node (eth_chainId).</summary>
    public long? EvmChainId { get; init; }

    /// <summary>NBitcoin's parameters of this chain (address prefixes, genesis, RPC port); null outside the UTXO family.</summary>
    public NBitcoin.Network? UtxoNetwork { get; private init; }

    /// <summary>Bech32 human-readable part of native segwit addresses (UTXO only).</summary>
    public string? Bech32Hrp => UtxoNetwork is { } utxo
        ? System.Text.Encoding.ASCII.GetString(utxo.GetBech32Encoder(NBitcoin.Bech32Type.WITNESS_PUBKEY_ADDRESS, true)!.HumanReadablePart)
        : null;

    /// <summary>Extended public key versions accepted as the account key for deposit addresses.</summary>
    public IReadOnlyList<ExtendedKeyVersion> AccountKeyVersions { get; private init; } = [];

    public bool IsUtxo => Family == NetworkFamily.Utxo;

    public static Network Get(string id, NetworkChain chain = NetworkChain.Mainnet) =>
        TryGet(id, chain, out var network)
            ? network
            : throw new ArgumentException($"Unknown network '{id}'; known: {string.Join(", ", Ids)}.", nameof(id));

    public static bool TryGet(string id, NetworkChain chain, out Network network)
    {
        Network? found = id?.Trim().ToLowerInvariant() switch
        {
            "btc" => Bitcoin(chain),
            "ltc" => Litecoin(chain),
            "eth" => Ethereum(chain),
            "bsc" => BinanceSmartChain(chain),
            "tron" => TronNetwork(chain),
            "sandbox" => SandboxNetwork(chain),
            _ => null,
        };
        network = found ?? Btc;
        return found is not null;
    }

    /// <summary>The account-level path whose extended public key an operator configures, e.g. m/84'/0'/0'.</summary>
    public NBitcoin.KeyPath AccountPath(uint account = 0) =>
        new(
            (uint)Purpose | Bip32.HardenedOffset,
            (uint)CoinType | Bip32.HardenedOffset,
            account | Bip32.HardenedOffset);

    public static Network Bitcoin(NetworkChain chain) => new("btc", NetworkFamily.Utxo, chain)
    {
        NativeSymbol = "BTC",
        NativeDecimals = 8,
        DefaultConfirmations = 2,
        Purpose = 84,
        CoinType = chain == NetworkChain.Mainnet ? 0 : 1,
        UtxoNetwork = chain switch
        {
            NetworkChain.Mainnet => NBitcoin.Network.Main,
            NetworkChain.Testnet => NBitcoin.Network.TestNet,
            _ => NBitcoin.Network.RegTest,
        },
        AccountKeyVersions = chain == NetworkChain.Mainnet
            ? [ExtendedKeyVersion.Zpub, ExtendedKeyVersion.Xpub]
            : [ExtendedKeyVersion.Vpub, ExtendedKeyVersion.Tpub],
    };

    public static Network Litecoin(NetworkChain chain) => new("ltc", NetworkFamily.Utxo, chain)
    {
        NativeSymbol = "LTC",
        NativeDecimals = 8,
        DefaultConfirmations = 6,
        Purpose = 84,
        CoinType = chain == NetworkChain.Mainnet ? 2 : 1,
        UtxoNetwork = LitecoinNetworks.For(chain),
        AccountKeyVersions = chain == NetworkChain.Mainnet
            ? [ExtendedKeyVersion.Zpub, ExtendedKeyVersion.Xpub, ExtendedKeyVersion.Ltub]
            : [ExtendedKeyVersion.Vpub, ExtendedKeyVersion.Tpub, ExtendedKeyVersion.Ttub],
    };

    public static Network Ethereum(NetworkChain chain) => new("eth", NetworkFamily.Evm, chain)
    {
        NativeSymbol = "ETH",
        NativeDecimals = 18,
        DefaultConfirmations = 12,
        Purpose = 44,
        CoinType = 60,
        EvmChainId = chain == NetworkChain.Mainnet ? 1 : null,
        AccountKeyVersions = AccountKeysOutsideBitcoin,
    };

    public static Network BinanceSmartChain(NetworkChain chain) => new("bsc", NetworkFamily.Evm, chain)
    {
        NativeSymbol = "BNB",
        NativeDecimals = 18,
        DefaultConfirmations = 15,
        Purpose = 44,
        CoinType = 60,
        EvmChainId = chain == NetworkChain.Mainnet ? 56 : null,
        AccountKeyVersions = AccountKeysOutsideBitcoin,
    };

    public static Network TronNetwork(NetworkChain chain) => new("tron", NetworkFamily.Tron, chain)
    {
        NativeSymbol = "TRX",
        NativeDecimals = 6,
        DefaultConfirmations = 19,
        Purpose = 44,
        CoinType = 195,
        EvmChainId = chain == NetworkChain.Mainnet ? 0x2b6653dc : null,
        AccountKeyVersions = AccountKeysOutsideBitcoin,
    };

    public static Network SandboxNetwork(NetworkChain chain) => new("sandbox", NetworkFamily.Sandbox, chain)
    {
        NativeSymbol = "SBX",
        NativeDecimals = 8,
        DefaultConfirmations = 1,
        Purpose = 44,
        CoinType = 1,
        AccountKeyVersions = AccountKeysOutsideBitcoin,
    };

    // Wallets export EVM and TRON accounts as plain xpub (or tpub); SLIP-132 variants only describe Bitcoin scripts.
    private static IReadOnlyList<ExtendedKeyVersion> AccountKeysOutsideBitcoin => [ExtendedKeyVersion.Xpub, ExtendedKeyVersion.Tpub];

    public bool Equals(Network? other) => other is not null && Id == other.Id && Chain == other.Chain;

    public override int GetHashCode() => HashCode.Combine(Id, Chain);

    public override string ToString() => Chain == NetworkChain.Mainnet ? Id : $"{Id}-{Chain.ToString().ToLowerInvariant()}";
}
