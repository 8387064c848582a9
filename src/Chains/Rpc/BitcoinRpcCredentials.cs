using System.Net.Http.Headers;

namespace CryptoPay.Chains.Rpc;

/// <summary>How to authenticate to Bitcoin Core / Litecoin Core: rpcuser/rpcpassword, or the node's cookie file.</summary>
public sealed class BitcoinRpcCredentials
{
    private readonly Func<AuthenticationHeaderValue> _header;

    private BitcoinRpcCredentials(Func<AuthenticationHeaderValue> header) => _header = header;

    public static BitcoinRpcCredentials UserPassword(string user, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        var header = JsonRpcTransport.Basic(user, password);
        return new BitcoinRpcCredentials(() => header);
    }

    /// <summary>The <c>.cookie</c> file the node writes at start; read at every call because a restarted node writes a new one.</summary>
    public static BitcoinRpcCredentials CookieFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new BitcoinRpcCredentials(() =>
        {
            string cookie;
            try
            {
                cookie = File.ReadAllText(path).Trim();
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new InvalidOperationException($"Cannot read the node's RPC cookie file {path}: {exception.Message}", exception);
            }

            var colon = cookie.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                throw new InvalidOperationException($"The RPC cookie file {path} does not hold user:password.");
            }

            return JsonRpcTransport.Basic(cookie[..colon], cookie[(colon + 1)..]);
        });
    }

    internal AuthenticationHeaderValue Header() => _header();
}
