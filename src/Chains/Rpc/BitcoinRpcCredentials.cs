using NBitcoin.RPC;

namespace CryptoPay.Chains.Rpc;

/// <summary>How to authenticate to Bitcoin Core / Litecoin Core: rpcuser/rpcpassword, or the node's cookie file.</summary>
public sealed class BitcoinRpcCredentials
{
    private BitcoinRpcCredentials(string credentialString) => CredentialString = RPCCredentialString.Parse(credentialString);

    /// <summary>In NBitcoin's form, for its <see cref="RPCClient"/>.</summary>
    internal RPCCredentialString CredentialString { get; }

    public static BitcoinRpcCredentials UserPassword(string user, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        return new BitcoinRpcCredentials($"{user}:{password}");
    }

    /// <summary>The <c>.cookie</c> file the node writes at start, read by NBitcoin's RPC client.</summary>
    public static BitcoinRpcCredentials CookieFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new BitcoinRpcCredentials("cookiefile=" + path);
    }
}
