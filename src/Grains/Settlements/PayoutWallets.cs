using System.Net.Http.Headers;
using System.Text;
using CryptoPay.Chains.Payouts;
using CryptoPay.Chains.Rpc;
using CryptoPay.Grains.Deposits;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Grains.Settlements;

/// <summary>
/// The hot wallet of each network that pays withdrawals (<c>Chains:Networks:{id}:PayoutWallet</c> on btc/ltc,
/// <c>PayoutKey</c> on eth/bsc), with the network's confirmations and poll interval. A network without one keeps its
/// withdrawals queued; TRON payouts are recorded by the operator.
/// </summary>
public sealed class PayoutWallets
{
    private readonly Dictionary<string, (IPayoutWallet Wallet, ChainNetworkOptions Options)> wallets = new(StringComparer.Ordinal);

    public PayoutWallets(ChainsOptions chains, HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(chains);
        foreach (var (id, options) in chains.Networks.Where(n => n.Value.Enabled))
        {
            if (Create(id, options, http) is { } wallet)
            {
                wallets[id] = (wallet, options);
            }
        }
    }

    /// <summary>The networks that pay withdrawals.</summary>
    public IEnumerable<string> Networks => wallets.Keys;

    public IPayoutWallet? For(string network) => wallets.TryGetValue(network, out var entry) ? entry.Wallet : null;

    /// <summary>Confirmations a payout needs before its withdrawal is completed: the network's deposit confirmations.</summary>
    public int RequiredConfirmations(string network) =>
        wallets.TryGetValue(network, out var entry) ? entry.Options.NetworkFor(network).DefaultConfirmations : Network.Get(network).DefaultConfirmations;

    /// <summary>How often an active batch asks the node: the network's poll interval.</summary>
    public TimeSpan PollInterval(string network) => wallets.TryGetValue(network, out var entry) ? entry.Options.PollInterval : TimeSpan.FromSeconds(10);

    public string? TokenContract(string network, string assetCode) =>
        wallets.TryGetValue(network, out var entry) && entry.Options.Tokens.TryGetValue(assetCode, out var contract) ? contract : null;

    private static IPayoutWallet? Create(string id, ChainNetworkOptions options, HttpClient http)
    {
        var network = options.NetworkFor(id);
        if (options.PayoutWallet is { } walletName)
        {
            var rpc = new BitcoinRpcClient(http, new Uri(options.RpcUrl!), BitcoinRpcCredentials.UserPassword(options.RpcUser!, options.RpcPassword ?? ""));
            return new UtxoNodeWallet(rpc.ForWallet(walletName), network, network.DefaultConfirmations);
        }

        if (options.PayoutKey is { } key)
        {
            AuthenticationHeaderValue? authorization = options.RpcUser is null ? null
                : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.RpcUser}:{options.RpcPassword}")));
            var hex = key.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? key[2..] : key;
            return new EvmPayoutWallet(new EvmRpcClient(http, new Uri(options.RpcUrl!), authorization), Convert.FromHexString(hex), network.EvmChainId);
        }

        return null;
    }
}
