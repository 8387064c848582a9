using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Grains.Catalog;
using Microsoft.Extensions.Configuration;

namespace CryptoPay.Grains.Deposits;

/// <summary>
/// The operator's chain settings: the "Chains" configuration section, one entry per network id
/// (<c>Chains:Networks:ltc:RpcUrl</c>). A network without an entry (or with <c>Enabled=false</c>) is
/// not offered to live invoices; the sandbox needs no entry.
/// </summary>
public sealed class ChainsOptions
{
    public const string Section = "Chains";

    public Dictionary<string, ChainNetworkOptions> Networks { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Reads the "Chains" section network by network, so a value that does not convert (<c>PollInterval=often</c>) or a
    /// setting that does not exist (a typo) throws naming its key, where binding the dictionary whole would skip it.
    /// </summary>
    public static ChainsOptions Bind(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(Section);
        foreach (var unknown in section.GetChildren().Where(c => !string.Equals(c.Key, nameof(Networks), StringComparison.OrdinalIgnoreCase)))
        {
            throw new ChainsConfigurationException($"{unknown.Path} is not a setting; the section has only {Section}:{nameof(Networks)}:<network id>:….");
        }

        var options = new ChainsOptions();
        var known = typeof(ChainNetworkOptions).GetProperties().Where(p => p.CanWrite).Select(p => p.Name).Order(StringComparer.Ordinal).ToList();
        foreach (var network in section.GetSection(nameof(Networks)).GetChildren())
        {
            if (network.GetChildren().FirstOrDefault(c => !known.Contains(c.Key, StringComparer.OrdinalIgnoreCase)) is { } unknown)
            {
                throw new ChainsConfigurationException($"{unknown.Path} is not a setting; known: {string.Join(", ", known)}.");
            }

            var entry = new ChainNetworkOptions();
            network.Bind(entry);
            options.Networks[network.Key] = entry;
        }

        return options;
    }

    /// <summary>
    /// Checks every entry; the first bad setting throws a <see cref="ChainsConfigurationException"/> whose
    /// one-line message names the key (<c>Chains:Networks:ltc:AccountKey …</c>).
    /// </summary>
    public void Validate()
    {
        foreach (var (id, options) in Networks)
        {
            ArgumentNullException.ThrowIfNull(options);
            options.Validate(id);
        }
    }
}

/// <summary>A bad "Chains" setting; the message names the configuration key and fits on one line.</summary>
public sealed class ChainsConfigurationException(string message) : InvalidOperationException(message);

/// <summary>One network's node, account key, confirmations, tokens and polling.</summary>
public sealed class ChainNetworkOptions
{
    public const int MaxConfirmations = 1000;
    public const int MaxAddressLookahead = 10_000;

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

    /// <summary>
    /// The EIP-155 chain id of an EVM or TRON network, written into EIP-681 payment URIs. Mainnets default to
    /// their well-known id; test and dev chains should set it (without it the URI names no chain).
    /// </summary>
    public long? ChainId { get; set; }

    /// <summary>
    /// Bitcoin/Litecoin: the node wallet (its name, as <c>createwallet</c> gave it) that pays withdrawals: settlement
    /// batches are funded, signed and broadcast with its raw-transaction RPCs. Null: withdrawals on this network stay queued.
    /// </summary>
    public string? PayoutWallet { get; set; }

    /// <summary>Ethereum/BSC: the hot wallet's private key (64 hex digits) that signs payouts. Null: withdrawals on this network stay queued.</summary>
    public string? PayoutKey { get; set; }

    /// <summary>The chain this entry is on (valid after <see cref="Validate"/>).</summary>
    public NetworkChain ParsedChain => TryParseChain(Chain, out var chain) ? chain : NetworkChain.Mainnet;

    /// <summary>The network with this entry's chain, confirmations and chain id applied.</summary>
    public Network NetworkFor(string id)
    {
        var network = Network.Get(id, ParsedChain);
        return network with
        {
            DefaultConfirmations = Confirmations ?? network.DefaultConfirmations,
            EvmChainId = ChainId ?? network.EvmChainId,
        };
    }

    /// <summary>
    /// The account-level public key, parsed: a public key at depth 3 as configured, or (regtest only) a private key,
    /// either at depth 3 or a master key from which the network's account path m/purpose'/coin'/0' is derived.
    /// </summary>
    public ExtendedKey ParseAccountKey(string id)
    {
        var key = ExtendedKey.Parse(AccountKey ?? throw new InvalidOperationException($"{Key(id, nameof(AccountKey))} is not set."));
        return key.IsPrivate && key.Depth == 0 ? key.Derive(Network.Get(id, ParsedChain).AccountPath()).Neuter() : key.Neuter();
    }

    /// <summary>Throws <see cref="ChainsConfigurationException"/> naming the first bad setting of network <paramref name="id"/>.</summary>
    public void Validate(string id)
    {
        if (!Network.TryGet(id, NetworkChain.Mainnet, out var known))
        {
            throw Bad($"Chains:Networks:{id} is not a known network; known: {string.Join(", ", Network.Ids.Where(n => n != Network.Sandbox.Id))}.");
        }

        if (!string.Equals(id, known.Id, StringComparison.Ordinal))
        {
            throw Bad($"Chains:Networks:{id}: network ids are lower-case; write Chains:Networks:{known.Id}.");
        }

        if (known.Family == NetworkFamily.Sandbox)
        {
            throw Bad($"Chains:Networks:{id}: the sandbox is simulated in-process and takes no chain settings; remove this entry.");
        }

        if (!TryParseChain(Chain, out var chain))
        {
            throw Bad($"{Key(id, nameof(Chain))} is '{Chain}'; expected mainnet, testnet or regtest.");
        }

        var network = Network.Get(known.Id, chain);
        if (Confirmations is { } confirmations && confirmations is < 1 or > MaxConfirmations)
        {
            throw Bad($"{Key(id, nameof(Confirmations))} is {confirmations}; expected 1 to {MaxConfirmations}.");
        }

        if (PollInterval < TimeSpan.FromSeconds(1))
        {
            throw Bad($"{Key(id, nameof(PollInterval))} is {PollInterval}; expected at least 00:00:01.");
        }

        if (AddressLookahead is < 1 or > MaxAddressLookahead)
        {
            throw Bad($"{Key(id, nameof(AddressLookahead))} is {AddressLookahead}; expected 1 to {MaxAddressLookahead}.");
        }

        var required = Confirmations ?? network.DefaultConfirmations;
        if (ReorgDepth < required)
        {
            throw Bad($"{Key(id, nameof(ReorgDepth))} is {ReorgDepth}, below the {required} confirmations required; a payment must stay watched until it is final.");
        }

        if (StartHeight is < 0)
        {
            throw Bad($"{Key(id, nameof(StartHeight))} is {StartHeight}; expected a block height of 0 or more.");
        }

        if (ChainId is { } chainId && (chainId < 1 || network.Family == NetworkFamily.Utxo))
        {
            throw Bad(network.Family == NetworkFamily.Utxo
                ? $"{Key(id, nameof(ChainId))} is set, but {id} has no EIP-155 chain id."
                : $"{Key(id, nameof(ChainId))} is {chainId}; expected a positive EIP-155 chain id.");
        }

        ValidateTokens(id, network);
        ValidatePayouts(id, network);
        if (!Enabled)
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(RpcUrl) || !Uri.TryCreate(RpcUrl, UriKind.Absolute, out var rpc) || rpc.Scheme is not ("http" or "https") || rpc.Host.Length == 0)
        {
            throw Bad($"{Key(id, nameof(RpcUrl))} is {(string.IsNullOrWhiteSpace(RpcUrl) ? "not set" : $"'{RpcUrl}'")}; expected an absolute http(s) URL of the node's JSON-RPC endpoint.");
        }

        if (string.IsNullOrEmpty(RpcUser) != string.IsNullOrEmpty(RpcPassword))
        {
            throw Bad($"{Key(id, string.IsNullOrEmpty(RpcUser) ? nameof(RpcUser) : nameof(RpcPassword))} is not set; give both RpcUser and RpcPassword, or neither.");
        }

        if (network.IsUtxo && string.IsNullOrEmpty(RpcUser))
        {
            throw Bad($"{Key(id, nameof(RpcUser))} is not set; {network.Id}'s node (Bitcoin Core JSON-RPC) needs RpcUser and RpcPassword.");
        }

        ValidateAccountKey(id, network);
    }

    private void ValidateAccountKey(string id, Network network)
    {
        var name = Key(id, nameof(AccountKey));
        if (string.IsNullOrWhiteSpace(AccountKey))
        {
            throw Bad($"{name} is not set; an enabled network needs the account extended public key of m/{network.AccountPath()}.");
        }

        if (!ExtendedKey.TryParse(AccountKey, out var key, out var error))
        {
            throw Bad($"{name} is not an extended key: {error}.");
        }

        var chain = network.Chain;
        var prefix = key.IsPrivate ? key.Version.PrivatePrefix : key.Version.PublicPrefix;
        if (key.IsPrivate && chain != NetworkChain.Regtest)
        {
            throw Bad($"{name} is a private key ({prefix}); configure the account's extended public key: private keys are accepted on regtest only.");
        }

        if (key.Version.IsTestnet != (chain != NetworkChain.Mainnet))
        {
            throw Bad($"{name} is a {prefix} for {(key.Version.IsTestnet ? "testnet" : "mainnet")} but Chain is {Name(chain)}.");
        }

        if (!network.AccountKeyVersions.Contains(key.Version))
        {
            throw Bad($"{name} is a {prefix}; {id} on {Name(chain)} takes {string.Join(", ", network.AccountKeyVersions.Select(v => v.PublicPrefix))}"
                + (key.Version.Script == ExtendedKeyScript.NestedSegwit ? " (ypub/upub/Mtub describe BIP49 nested segwit accounts; deposits are native segwit BIP84)." : "."));
        }

        var masterOnRegtest = key.IsPrivate && key.Depth == 0;
        if (!masterOnRegtest && (key.Depth != 3 || !Bip32.IsHardened(key.ChildNumber)))
        {
            throw Bad($"{name} is at depth {key.Depth}{(key.Depth == 3 ? " with a non-hardened index" : "")}; expected the account key at depth 3 (m/{network.AccountPath()}).");
        }

        try
        {
            _ = new AddressDeriver(network, ParseAccountKey(id)).DeriveReceiveAddress(0);
        }
        catch (Exception derivation) when (derivation is ArgumentException or InvalidOperationException)
        {
            throw Bad($"{name} cannot derive deposit addresses: {derivation.Message}");
        }
    }

    private void ValidatePayouts(string id, Network network)
    {
        if (PayoutWallet is not null && (network.Family != NetworkFamily.Utxo || string.IsNullOrWhiteSpace(PayoutWallet)))
        {
            throw Bad(network.Family != NetworkFamily.Utxo
                ? $"{Key(id, nameof(PayoutWallet))} is set, but {id} pays from a key: set {Key(id, nameof(PayoutKey))}."
                : $"{Key(id, nameof(PayoutWallet))} is empty; give the node wallet's name.");
        }

        if (PayoutKey is not null)
        {
            if (network.Family != NetworkFamily.Evm)
            {
                throw Bad(network.Family == NetworkFamily.Utxo
                    ? $"{Key(id, nameof(PayoutKey))} is set, but {id} pays from a node wallet: set {Key(id, nameof(PayoutWallet))}."
                    : $"{Key(id, nameof(PayoutKey))} is set, but {id} payouts are recorded by the operator through the admin API.");
            }

            var hex = PayoutKey.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? PayoutKey[2..] : PayoutKey;
            if (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit))
            {
                throw Bad($"{Key(id, nameof(PayoutKey))} is not a private key; expected 64 hex digits.");
            }
        }
    }

    private void ValidateTokens(string id, Network network)
    {
        foreach (var (asset, contract) in Tokens)
        {
            var name = $"Chains:Networks:{id}:Tokens:{asset}";
            if (network.Family is not (NetworkFamily.Evm or NetworkFamily.Tron))
            {
                throw Bad($"{name} is set, but {id} has no tokens.");
            }

            var offered = Assets.Methods.Where(m => m.Network == network.Id && m.Asset != network.NativeSymbol).Select(m => m.Asset).ToList();
            if (!offered.Contains(asset.ToUpperInvariant(), StringComparer.Ordinal))
            {
                throw Bad($"{name}: {id} offers no '{asset}' token; tokens on {id}: {string.Join(", ", offered)}.");
            }

            var valid = network.Family == NetworkFamily.Tron
                ? TronAddress.TryDecode(contract ?? "", out _, out var error)
                : EvmAddress.TryParse(contract ?? "", out _, out error);
            if (!valid)
            {
                throw Bad($"{name} is not {(network.Family == NetworkFamily.Tron ? "a TRON" : "an EVM")} contract address: {error}.");
            }
        }
    }

    private static bool TryParseChain(string? text, out NetworkChain chain)
    {
        NetworkChain? parsed = text?.Trim().ToLowerInvariant() switch
        {
            "mainnet" => NetworkChain.Mainnet,
            "testnet" => NetworkChain.Testnet,
            "regtest" => NetworkChain.Regtest,
            _ => null,
        };
        chain = parsed ?? NetworkChain.Mainnet;
        return parsed is not null;
    }

    private static string Name(NetworkChain chain) => chain.ToString().ToLowerInvariant();

    private static string Key(string id, string setting) => $"Chains:Networks:{id}:{setting}";

    private static ChainsConfigurationException Bad(string message) => new(message);
}
