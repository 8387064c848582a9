namespace CryptoPay.Grains.Deposits;

/// <summary>
/// The operator's chain settings: the "Chains" configuration section, one entry per network id
/// (<c>Chains:Networks:ltc:RpcUrl</c>). A network without an entry (or with <c>Enabled=false</c>) is
/// not offered to live invoices; the sandbox needs no entry.
/// </summary>
public sealed class ChainsOptions
{
    public const string Section = "Chains";

    public Dictionary<string, ChainNetworkOptions> Networks { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>One network's node, account key, confirmations, tokens and polling.</summary>
public sealed class ChainNetworkOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary><c>mainnet</c>, <c>testnet</c> or <c>regtest</c>: selects address prefixes and accepted key versions.</summary>
    public string Chain { get; set; } = "mainnet";

    /// <summary>The node's JSON-RPC URL (Bitcoin Core / Litecoin Core, or an Ethereum JSON-RPC endpoint).</summary>
    public string? RpcUrl { get; set; }

    public string? RpcUser { get; set; }

    public string? RpcPassword { get; set; }

    /// <summary>The account-level extended public key deposit addresses are derived from (xpub/zpub/tpub/vpub…).</summary>
    public string? AccountKey { get; set; }

    /// <summary>Confirmations required before a payment counts; null = the network's default. Merchants may override per network.</summary>
    public int? Confirmations { get; set; }

    /// <summary>Token contracts by asset code (<c>USDT</c> → contract address), for EVM and TRON networks.</summary>
    public Dictionary<string, string> Tokens { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>How often the chain watcher asks the node for new blocks.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many addresses the address pool keeps derived ahead of use.</summary>
    public int AddressLookahead { get; set; } = 100;

    /// <summary>How many recent block hashes the watcher remembers to detect reorganisations; payments are watched this deep.</summary>
    public int ReorgDepth { get; set; } = 100;

    /// <summary>The first block the watcher reads when it has no cursor yet; null = the node's tip at first start.</summary>
    public long? StartHeight { get; set; }
}
