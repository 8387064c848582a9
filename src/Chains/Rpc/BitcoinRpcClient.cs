using System.Text.Json;

namespace CryptoPay.Chains.Rpc;

/// <summary>
/// JSON-RPC client for Bitcoin Core and Litecoin Core (same API). Amounts are exact: satoshis as <see cref="long"/>.
/// Wallet calls go to the node's default wallet unless the client was made with <see cref="ForWallet"/>.
/// </summary>
public sealed class BitcoinRpcClient
{
    /// <summary>Long enough for a block with thousands of transactions at verbosity 2 on a slow node.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly BitcoinRpcCredentials _credentials;
    private readonly TimeSpan _timeout;
    private readonly JsonRpcTransport _transport;

    /// <param name="http">Owned by the caller; one per node is plenty.</param>
    /// <param name="endpoint">The node's RPC URL, e.g. http://127.0.0.1:9332/.</param>
    public BitcoinRpcClient(HttpClient http, Uri endpoint, BitcoinRpcCredentials credentials, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        _http = http;
        _credentials = credentials;
        _timeout = timeout ?? DefaultTimeout;
        _transport = new JsonRpcTransport(http, endpoint, "1.0", _timeout, credentials.Header);
    }

    public Uri Endpoint => _transport.Endpoint;

    /// <summary>A client whose wallet calls go to the named wallet (<c>/wallet/&lt;name&gt;</c>).</summary>
    public BitcoinRpcClient ForWallet(string walletName) =>
        new(_http, new Uri(Endpoint, "/wallet/" + Uri.EscapeDataString(walletName)), _credentials, _timeout);

    public Task<long> GetBlockCountAsync(CancellationToken ct = default) =>
        _transport.CallAsync("getblockcount", _ => { }, result => result.GetInt64(), ct);

    public Task<string> GetBlockHashAsync(long height, CancellationToken ct = default) =>
        _transport.CallAsync("getblockhash", w => w.WriteNumberValue(height), StringResult, ct);

    public Task<string> GetBestBlockHashAsync(CancellationToken ct = default) =>
        _transport.CallAsync("getbestblockhash", _ => { }, StringResult, ct);

    /// <summary><c>getblock hash 2</c>: the block with every transaction decoded.</summary>
    public Task<BitcoinBlock> GetBlockAsync(string blockHash, CancellationToken ct = default) =>
        _transport.CallAsync(
            "getblock",
            w =>
            {
                w.WriteStringValue(blockHash);
                w.WriteNumberValue(2);
            },
            ParseBlock,
            ct);

    /// <summary>The txids in the node's mempool.</summary>
    public Task<IReadOnlyList<string>> GetRawMempoolAsync(CancellationToken ct = default) =>
        _transport.CallAsync("getrawmempool", _ => { }, result => result.StringArray(), ct);

    /// <summary>
    /// <c>getrawtransaction</c>. For a confirmed transaction outside the wallet the node needs <c>-txindex</c>
    /// (or, verbose, the block hash), as Bitcoin Core documents.
    /// </summary>
    public Task<BitcoinRawTransaction> GetRawTransactionAsync(string txid, bool verbose, CancellationToken ct = default) =>
        _transport.CallAsync(
            "getrawtransaction",
            w =>
            {
                w.WriteStringValue(txid);
                w.WriteBooleanValue(verbose);
            },
            result => verbose
                ? new BitcoinRawTransaction(
                    result.RequiredString("hex"),
                    ParseTransaction(result),
                    result.OptionalString("blockhash"),
                    result.TryGetProperty("confirmations", out var confirmations) ? confirmations.GetInt64() : 0)
                : new BitcoinRawTransaction(StringResult(result), null, null, 0),
            ct);

    public Task<BitcoinNodeVersion> GetNetworkVersionAsync(CancellationToken ct = default) =>
        _transport.CallAsync(
            "getnetworkinfo",
            _ => { },
            result => new BitcoinNodeVersion(result.Required("version").GetInt64(), result.RequiredString("subversion")),
            ct);

    // ---- regtest and wallet helpers (tests, operator tooling) ----

    /// <summary>Mines <paramref name="blocks"/> blocks paying the coinbase to <paramref name="address"/> (regtest).</summary>
    public Task<IReadOnlyList<string>> GenerateToAddressAsync(int blocks, string address, CancellationToken ct = default) =>
        _transport.CallAsync(
            "generatetoaddress",
            w =>
            {
                w.WriteNumberValue(blocks);
                w.WriteStringValue(address);
            },
            result => result.StringArray(),
            ct);

    public Task CreateWalletAsync(string walletName, CancellationToken ct = default) =>
        _transport.CallAsync("createwallet", w => w.WriteStringValue(walletName), result => result.RequiredString("name"), ct);

    /// <param name="addressType">"bech32", "p2sh-segwit" or "legacy"; the node's default when null.</param>
    public Task<string> GetNewAddressAsync(string? addressType = null, CancellationToken ct = default) =>
        _transport.CallAsync(
            "getnewaddress",
            w =>
            {
                if (addressType is not null)
                {
                    w.WriteStringValue("");
                    w.WriteStringValue(addressType);
                }
            },
            StringResult,
            ct);

    /// <summary>Sends from the wallet; returns the txid.</summary>
    public Task<string> SendToAddressAsync(string address, long satoshis, CancellationToken ct = default) =>
        _transport.CallAsync(
            "sendtoaddress",
            w =>
            {
                w.WriteStringValue(address);
                w.WriteNumberValue(BitcoinAmount.ToCoins(satoshis));
            },
            StringResult,
            ct);

    /// <summary>One wallet transaction paying every address its amount; returns the txid.</summary>
    public Task<string> SendManyAsync(IReadOnlyDictionary<string, long> satoshisByAddress, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(satoshisByAddress);
        return _transport.CallAsync(
            "sendmany",
            w =>
            {
                w.WriteStringValue("");
                w.WriteStartObject();
                foreach (var (address, satoshis) in satoshisByAddress)
                {
                    w.WriteNumber(address, BitcoinAmount.ToCoins(satoshis));
                }

                w.WriteEndObject();
            },
            StringResult,
            ct);
    }

    /// <summary>Marks the block (and its descendants) invalid, so the node reorganises away from it.</summary>
    public Task InvalidateBlockAsync(string blockHash, CancellationToken ct = default) =>
        _transport.CallAsync("invalidateblock", w => w.WriteStringValue(blockHash), _ => true, ct);

    public Task ReconsiderBlockAsync(string blockHash, CancellationToken ct = default) =>
        _transport.CallAsync("reconsiderblock", w => w.WriteStringValue(blockHash), _ => true, ct);

    private static string StringResult(JsonElement result) =>
        result.GetString() ?? throw new FormatException("expected a string result");

    private static BitcoinBlock ParseBlock(JsonElement block)
    {
        var transactions = block.Required("tx");
        var parsed = new List<BitcoinTransaction>(transactions.GetArrayLength());
        foreach (var transaction in transactions.EnumerateArray())
        {
            if (transaction.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("getblock returned txids only; verbosity 2 needs Bitcoin Core 0.16 or later");
            }

            parsed.Add(ParseTransaction(transaction));
        }

        return new BitcoinBlock(
            block.RequiredString("hash"),
            block.Required("height").GetInt64(),
            block.OptionalString("previousblockhash"),
            block.Required("confirmations").GetInt64(),
            block.Required("time").GetInt64(),
            parsed);
    }

    private static BitcoinTransaction ParseTransaction(JsonElement transaction)
    {
        var isCoinbase = false;
        if (transaction.TryGetProperty("vin", out var inputs))
        {
            foreach (var input in inputs.EnumerateArray())
            {
                isCoinbase |= input.TryGetProperty("coinbase", out _);
            }
        }

        var vout = transaction.Required("vout");
        var outputs = new List<BitcoinOutput>(vout.GetArrayLength());
        foreach (var output in vout.EnumerateArray())
        {
            var script = output.Required("scriptPubKey");
            outputs.Add(new BitcoinOutput(
                output.Required("n").GetInt32(),
                BitcoinAmount.ToSatoshis(output.Required("value")),
                ScriptAddress(script),
                script.OptionalString("hex") ?? ""));
        }

        return new BitcoinTransaction(transaction.RequiredString("txid"), isCoinbase, outputs);
    }

    /// <summary>Core 22+ prints "address"; earlier versions (Litecoin Core 0.21) an "addresses" array.</summary>
    private static string? ScriptAddress(JsonElement script)
    {
        if (script.OptionalString("address") is { } address)
        {
            return address;
        }

        return script.TryGetProperty("addresses", out var addresses)
            && addresses.ValueKind == JsonValueKind.Array
            && addresses.GetArrayLength() == 1
                ? addresses[0].GetString()
                : null;
    }
}
