using System.Globalization;
using System.Numerics;
using System.Text;

namespace CryptoPay.Chains.Uris;

/// <summary>
/// Payment request URIs a wallet opens or scans: BIP21 for Bitcoin-style coins, EIP-681 for EVM networks,
/// and the <c>tron:</c> form TRON wallets accept. Amounts come in as integer smallest units and are written
/// exactly, never through floating point.
/// </summary>
public static class PaymentUri
{
    /// <summary>
    /// BIP21: <c>bitcoin:&lt;address&gt;?amount=0.0015321&amp;label=…&amp;message=…</c>. The amount is in coins, as a
    /// plain decimal without exponent and without trailing zeros (BIP21's own examples: <c>amount=20.3</c>).
    /// </summary>
    public static string Bip21(string scheme, string address, BigInteger units, int decimals, string? label = null, string? message = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(scheme);
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var uri = new StringBuilder(scheme).Append(':').Append(address).Append("?amount=").Append(CoinAmount(units, decimals));
        AppendParameter(uri, "label", label);
        AppendParameter(uri, "message", message);
        return uri.ToString();
    }

    /// <summary>EIP-681 native transfer: <c>ethereum:&lt;address&gt;@&lt;chainId&gt;?value=&lt;wei&gt;</c> (the chain part only when known).</summary>
    public static string Eip681Native(string address, long? chainId, BigInteger wei)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        return $"ethereum:{address}{Chain(chainId)}?value={Units(wei)}";
    }

    /// <summary>
    /// EIP-681 token transfer: <c>ethereum:&lt;token contract&gt;@&lt;chainId&gt;/transfer?address=&lt;recipient&gt;&amp;uint256=&lt;units&gt;</c>:
    /// the wallet calls the contract's <c>transfer(address, uint256)</c>.
    /// </summary>
    public static string Eip681Token(string tokenContract, long? chainId, string recipient, BigInteger units)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenContract);
        ArgumentException.ThrowIfNullOrWhiteSpace(recipient);
        return $"ethereum:{tokenContract}{Chain(chainId)}/transfer?address={recipient}&uint256={Units(units)}";
    }

    /// <summary>
    /// TRON has no URI standard; this is the form Trust Wallet and TokenPocket read:
    /// <c>tron:&lt;address&gt;?amount=&lt;decimal&gt;&amp;token=&lt;TRC-20 contract&gt;</c> (no token: TRX), amount in whole tokens.
    /// </summary>
    public static string Tron(string address, BigInteger units, int decimals, string? tokenContract)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        var uri = $"tron:{address}?amount={CoinAmount(units, decimals)}";
        return tokenContract is null ? uri : $"{uri}&token={tokenContract}";
    }

    /// <summary>
    /// <paramref name="units"/> smallest units as an exact decimal number of coins: <c>153210</c> with 8 decimals is
    /// <c>0.0015321</c>; 1 wei with 18 decimals is <c>0.000000000000000001</c>; whole amounts have no point.
    /// </summary>
    public static string CoinAmount(BigInteger units, int decimals)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(decimals);
        if (units.Sign < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(units), units, "A payment amount cannot be negative.");
        }

        var digits = units.ToString(CultureInfo.InvariantCulture).PadLeft(decimals + 1, '0');
        var whole = digits[..^decimals];
        var fraction = digits[^decimals..].TrimEnd('0');
        return fraction.Length == 0 ? whole : $"{whole}.{fraction}";
    }

    private static string Units(BigInteger units) =>
        units.Sign < 0 ? throw new ArgumentOutOfRangeException(nameof(units), units, "A payment amount cannot be negative.") : units.ToString(CultureInfo.InvariantCulture);

    private static string Chain(long? chainId) => chainId is { } id ? $"@{id.ToString(CultureInfo.InvariantCulture)}" : "";

    private static void AppendParameter(StringBuilder uri, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            uri.Append('&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        }
    }
}
