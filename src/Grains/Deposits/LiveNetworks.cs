using System.Security.Cryptography;
using CryptoPay.Chains.Hd;
using CryptoPay.Chains.Networks;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Merchants;

namespace CryptoPay.Grains.Deposits;

/// <summary>One network the operator configured and enabled: its chain, account key and settings.</summary>
public sealed class LiveNetwork
{
    internal LiveNetwork(string id, ChainNetworkOptions options)
    {
        Id = id;
        Options = options;
        Network = options.NetworkFor(id);
        Deriver = new AddressDeriver(Network, options.ParseAccountKey(id));
        var key = Deriver.AccountKey;
        AccountKeyId = Convert.ToHexStringLower(SHA256.HashData([.. key.PublicKey, .. key.ChainCode]).AsSpan(0, 8));
    }

    public string Id { get; }

    /// <summary>The network on the configured chain, with the operator's confirmations and chain id applied.</summary>
    public Network Network { get; }

    public ChainNetworkOptions Options { get; }

    /// <summary>Derives receive addresses account/0/i from the configured account key; thread-safe.</summary>
    public AddressDeriver Deriver { get; }

    /// <summary>A short fingerprint of the account key: the address pool keeps one index cursor per key.</summary>
    public string AccountKeyId { get; }

    /// <summary>Confirmations the operator requires on this network (configured, else the network's default).</summary>
    public int Confirmations => Network.DefaultConfirmations;
}

/// <summary>
/// Which networks and payment methods live invoices may use (configured in "Chains" and enabled; a token
/// method also needs its contract), the confirmations they require and their token contracts.
/// Test mode always pays on the sandbox chain.
/// </summary>
public sealed class LiveNetworks
{
    private readonly Dictionary<string, LiveNetwork> networks;

    /// <summary>Builds the catalog from validated options (see <see cref="ChainsOptions.Validate"/>).</summary>
    public LiveNetworks(ChainsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        networks = options.Networks
            .Where(n => n.Value.Enabled)
            .ToDictionary(n => n.Key.Trim().ToLowerInvariant(), n => new LiveNetwork(n.Key.Trim().ToLowerInvariant(), n.Value), StringComparer.Ordinal);
    }

    /// <summary>No live network: what a gateway without a "Chains" section offers (test mode only).</summary>
    public static LiveNetworks None { get; } = new(new ChainsOptions());

    public IReadOnlyCollection<LiveNetwork> Enabled => networks.Values;

    public LiveNetwork? Find(string? networkId) => networkId is not null && networks.TryGetValue(networkId, out var network) ? network : null;

    /// <summary>The token contract of <paramref name="asset"/> on a configured network, or null (native asset, or not configured).</summary>
    public string? TokenContract(string networkId, string asset) =>
        Find(networkId) is { } network && network.Options.Tokens.TryGetValue(asset, out var contract) ? contract : null;

    /// <summary>True when a method can be paid in <paramref name="mode"/>: sandbox methods in test mode; live methods on an enabled network with, for tokens, a configured contract.</summary>
    public bool Offers(PaymentMethodInfo method, Mode mode)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.IsSandbox)
        {
            return mode == Mode.Test;
        }

        return mode == Mode.Live && Find(method.Network) is { } network &&
            (method.Asset == network.Network.NativeSymbol || TokenContract(method.Network, method.Asset) is not null);
    }

    /// <summary>The methods a mode can use, in catalog order.</summary>
    public IReadOnlyList<PaymentMethodInfo> MethodsFor(Mode mode) => [.. Assets.Methods.Where(m => Offers(m, mode))];

    /// <summary>Confirmations an invoice's payments need: the merchant's override ?? the operator's setting ?? the network's default.</summary>
    public int RequiredConfirmations(PaymentMethodInfo method, MerchantState? merchant)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (method.IsSandbox)
        {
            return method.Confirmations;
        }

        if (merchant?.Confirmations is { } overrides && overrides.TryGetValue(method.Network, out var chosen))
        {
            return chosen;
        }

        return Find(method.Network)?.Confirmations ?? method.Confirmations;
    }
}
