using CryptoPay.Chains.Payouts;
using NBitcoin;
using NBitcoin.RPC;
using Newtonsoft.Json.Linq;

namespace CryptoPay.Chains.Rpc;

/// <summary>
/// Bitcoin Core and Litecoin Core (same API) through NBitcoin's <see cref="RPCClient"/>. Blocks are read as
/// <c>getblock</c> verbosity-2 JSON rather than as NBitcoin <see cref="Block"/>s, because Litecoin's MWEB blocks do not
/// parse as raw blocks; each output's value still comes from the transaction's own bytes, decoded by NBitcoin, so
/// amounts are exact satoshis as <see cref="long"/>. Wallet calls go to the node's default wallet unless the client
/// was made with <see cref="ForWallet"/>.
/// </summary>
public sealed class BitcoinRpcClient
{
    /// <summary>Long enough for a block with thousands of transactions at verbosity 2 on a slow node.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    // RPCClient wants a network for its typed helpers (addresses, raw blocks). This client reads JSON and decodes only
    // transactions, whose format every Bitcoin-derived chain here shares, so Bitcoin's parameters serve every node.
    private static readonly NBitcoin.Network TransactionFormat = NBitcoin.Network.Main;

    /// <summary>RPC_INVALID_ADDRESS_OR_KEY: also "no such wallet or mempool transaction".</summary>
    public const int InvalidAddressOrKey = -5;

    private readonly RPCClient _rpc;
    private readonly TimeSpan _timeout;

    /// <param name="http">Owned by the caller; one per node is plenty.</param>
    /// <param name="endpoint">The node's RPC URL, e.g. http://127.0.0.1:9332/.</param>
    public BitcoinRpcClient(HttpClient http, Uri endpoint, BitcoinRpcCredentials credentials, TimeSpan? timeout = null)
        : this(new RPCClient(credentials?.CredentialString ?? throw new ArgumentNullException(nameof(credentials)), endpoint, TransactionFormat) { HttpClient = http }, timeout ?? DefaultTimeout)
    {
        ArgumentNullException.ThrowIfNull(http);
    }

    private BitcoinRpcClient(RPCClient rpc, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _rpc = rpc;
        _timeout = timeout;
    }

    public Uri Endpoint => _rpc.Address;

    /// <summary>A client whose wallet calls go to the named wallet (<c>/wallet/&lt;name&gt;</c>).</summary>
    public BitcoinRpcClient ForWallet(string walletName) => new(_rpc.SetWalletContext(walletName), _timeout);

    public async Task<long> GetBlockCountAsync(CancellationToken ct = default) =>
        (await CallAsync("getblockcount", ct)).Value<long>();

    public async Task<string> GetBlockHashAsync(long height, CancellationToken ct = default) =>
        StringResult(await CallAsync("getblockhash", ct, height));

    public async Task<string> GetBestBlockHashAsync(CancellationToken ct = default) =>
        StringResult(await CallAsync("getbestblockhash", ct));

    /// <summary><c>getblock hash 2</c>: the block with every transaction decoded.</summary>
    public async Task<BitcoinBlock> GetBlockAsync(string blockHash, CancellationToken ct = default) =>
        Read("getblock", await CallAsync("getblock", ct, blockHash, 2), ParseBlock);

    /// <summary>The txids in the node's mempool.</summary>
    public async Task<IReadOnlyList<string>> GetRawMempoolAsync(CancellationToken ct = default) =>
        StringArray(await CallAsync("getrawmempool", ct));

    /// <summary>
    /// <c>getrawtransaction</c>. For a confirmed transaction outside the wallet the node needs <c>-txindex</c>
    /// (or, verbose, the block hash), as Bitcoin Core documents.
    /// </summary>
    public async Task<BitcoinRawTransaction> GetRawTransactionAsync(string txid, bool verbose, CancellationToken ct = default)
    {
        var result = await CallAsync("getrawtransaction", ct, txid, verbose);
        return verbose
            ? Read("getrawtransaction", result, r => new BitcoinRawTransaction(
                RequiredString(r, "hex"),
                ParseTransaction(r),
                r.Value<string?>("blockhash"),
                r.Value<long?>("confirmations") ?? 0))
            : new BitcoinRawTransaction(StringResult(result), null, null, 0);
    }

    public async Task<BitcoinNodeVersion> GetNetworkVersionAsync(CancellationToken ct = default) =>
        Read("getnetworkinfo", await CallAsync("getnetworkinfo", ct), r => new BitcoinNodeVersion(Required(r, "version").Value<long>(), RequiredString(r, "subversion")));

    /// <summary><c>sendrawtransaction</c>: broadcasts a signed transaction (payouts); returns its txid.</summary>
    public async Task<string> SendRawTransactionAsync(Transaction transaction, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return StringResult(await CallAsync("sendrawtransaction", ct, transaction.ToHex()));
    }

    /// <summary><c>sendrawtransaction</c> of signed hex (e.g. from <see cref="SignRawTransactionWithWalletAsync"/>); returns its txid.</summary>
    public async Task<string> SendRawTransactionAsync(string hex, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(hex);
        return StringResult(await CallAsync("sendrawtransaction", ct, hex));
    }

    /// <summary>
    /// <c>gettxoutproof ["txid"] (blockhash)</c>: the serialized merkle block (hex) proving the transaction is in its block —
    /// the 80-byte header, then the partial Merkle tree; anyone checks it with <c>verifytxoutproof</c>. Without
    /// <paramref name="blockHash"/> the node needs <c>-txindex</c> or an unspent output of the transaction.
    /// </summary>
    public async Task<string> GetTxOutProofAsync(string txid, string? blockHash = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(txid);
        var txids = new JArray(txid);
        return StringResult(blockHash is null ? await CallAsync("gettxoutproof", ct, txids) : await CallAsync("gettxoutproof", ct, txids, blockHash));
    }

    // ---- wallet transactions: a payout the node's wallet funds and signs (settlement batches, tests) ----

    /// <summary>
    /// <c>createrawtransaction [] [{"address": coins}, …, {"data": hex}]</c>: an unsigned transaction with no inputs yet,
    /// paying <paramref name="outputs"/> in their order, then, when <paramref name="data"/> is given, an OP_RETURN output
    /// carrying it (e.g. a payout commitment). Returns its hex for <see cref="FundRawTransactionAsync"/>. The node refuses
    /// two outputs to one address ("duplicated address").
    /// </summary>
    public async Task<string> CreateRawTransactionAsync(IReadOnlyList<UtxoPayment> outputs, byte[]? data = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var orderedOutputs = new JArray();
        foreach (var output in outputs)
        {
            orderedOutputs.Add(new JObject { [output.Address] = Coins(output.Satoshis) });
        }

        if (data is not null)
        {
            orderedOutputs.Add(new JObject { ["data"] = Convert.ToHexStringLower(data) });
        }

        return StringResult(await CallAsync("createrawtransaction", ct, new JArray(), orderedOutputs));
    }

    /// <summary>
    /// <c>fundrawtransaction</c>: the wallet adds inputs and a change output and pays the fee at
    /// its own rate. <paramref name="lockUnspents"/> keeps the chosen inputs from being funded again before the
    /// transaction is broadcast (the lock lasts until the node restarts).
    /// </summary>
    /// <param name="changePosition">Where the change output goes (the given outputs keep their order); null: a random position.</param>
    public async Task<BitcoinFundedTransaction> FundRawTransactionAsync(string hex, bool lockUnspents = false, int? changePosition = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(hex);
        var options = new JObject { ["lockUnspents"] = lockUnspents };
        if (changePosition is { } position)
        {
            options["changePosition"] = position;
        }

        return Read("fundrawtransaction", await CallAsync("fundrawtransaction", ct, hex, options), r => new BitcoinFundedTransaction(
            RequiredString(r, "hex"),
            BitcoinAmount.ToSatoshis(Required(r, "fee")),
            Required(r, "changepos").Value<int>()));
    }

    /// <summary>
    /// <c>signrawtransactionwithwallet</c>: signs every input the wallet has keys for. Check
    /// <see cref="BitcoinSignedTransaction.Complete"/>: an incomplete transaction cannot be broadcast.
    /// </summary>
    public async Task<BitcoinSignedTransaction> SignRawTransactionWithWalletAsync(string hex, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(hex);
        return Read("signrawtransactionwithwallet", await CallAsync("signrawtransactionwithwallet", ct, hex), r => new BitcoinSignedTransaction(
            RequiredString(r, "hex"),
            Required(r, "complete").Value<bool>(),
            r["errors"] is JArray errors ? [.. errors.Select(e => $"input {e.Value<string?>("txid")}:{e.Value<int?>("vout")}: {e.Value<string?>("error")}")] : []));
    }

    /// <summary>
    /// The wallet's <c>gettransaction</c>: where one of its transactions stands (confirmations, block, fee). Negative
    /// confirmations mean it conflicts with a transaction in the chain that deep, as Bitcoin Core documents.
    /// </summary>
    /// <exception cref="JsonRpcException">Code -5 when the wallet does not know the txid.</exception>
    public async Task<BitcoinWalletTransaction> GetTransactionAsync(string txid, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(txid);
        return Read("gettransaction", await CallAsync("gettransaction", ct, txid), r => new BitcoinWalletTransaction(
            RequiredString(r, "txid"),
            RequiredString(r, "hex"),
            Required(r, "confirmations").Value<long>(),
            r.Value<string?>("blockhash"),
            r.Value<long?>("blockheight"),
            r["fee"] is { Type: not JTokenType.Null } fee ? -BitcoinAmount.ToSatoshis(fee) : null,
            r["walletconflicts"] is JArray conflicts ? StringArray(conflicts) : []));
    }

    /// <summary>
    /// <c>gettxout</c>: whether output <paramref name="index"/> of <paramref name="txid"/> is unspent in the chain (and,
    /// with <paramref name="includeMempool"/>, not spent by a mempool transaction either). False for a spent output or
    /// one that does not exist.
    /// </summary>
    public async Task<bool> IsUnspentAsync(string txid, int index, bool includeMempool, CancellationToken ct = default) =>
        (await CallAsync("gettxout", ct, txid, index, includeMempool)).Type is not JTokenType.Null;

    /// <summary>Whether the node's mempool holds the transaction (<c>getmempoolentry</c>).</summary>
    public async Task<bool> IsInMempoolAsync(string txid, CancellationToken ct = default)
    {
        try
        {
            await CallAsync("getmempoolentry", ct, txid);
            return true;
        }
        catch (JsonRpcException missing) when (missing.Code == InvalidAddressOrKey)
        {
            return false;
        }
    }

    // ---- regtest and wallet helpers (tests, operator tooling) ----

    /// <summary>Mines <paramref name="blocks"/> blocks paying the coinbase to <paramref name="address"/> (regtest).</summary>
    public async Task<IReadOnlyList<string>> GenerateToAddressAsync(int blocks, string address, CancellationToken ct = default) =>
        StringArray(await CallAsync("generatetoaddress", ct, blocks, address));

    public Task CreateWalletAsync(string walletName, CancellationToken ct = default) => CallAsync("createwallet", ct, walletName);

    /// <param name="addressType">"bech32", "p2sh-segwit" or "legacy"; the node's default when null.</param>
    public async Task<string> GetNewAddressAsync(string? addressType = null, CancellationToken ct = default) =>
        StringResult(addressType is null ? await CallAsync("getnewaddress", ct) : await CallAsync("getnewaddress", ct, "", addressType));

    /// <summary>Sends from the wallet; returns the txid.</summary>
    public async Task<string> SendToAddressAsync(string address, long satoshis, CancellationToken ct = default) =>
        StringResult(await CallAsync("sendtoaddress", ct, address, Coins(satoshis)));

    /// <summary>One wallet transaction paying every address its amount; returns the txid.</summary>
    public async Task<string> SendManyAsync(IReadOnlyDictionary<string, long> satoshisByAddress, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(satoshisByAddress);
        var amounts = new JObject();
        foreach (var (address, satoshis) in satoshisByAddress)
        {
            amounts[address] = Coins(satoshis);
        }

        return StringResult(await CallAsync("sendmany", ct, "", amounts));
    }

    /// <summary><c>lockunspent true</c>: releases every output the wallet locked (e.g. for a funded, not yet broadcast transaction).</summary>
    public Task UnlockAllUnspentAsync(CancellationToken ct = default) => CallAsync("lockunspent", ct, true);

    /// <summary>Sends the wallet's whole balance to <paramref name="address"/>, the fee taken from it; returns the txid.</summary>
    public async Task<string> SweepAsync(string address, CancellationToken ct = default)
    {
        var balance = await CallAsync("getbalance", ct);
        return StringResult(await CallAsync("sendtoaddress", ct, address, balance, "", "", true));
    }

    /// <summary><c>getreceivedbyaddress</c>: what the wallet's address received in transactions with at least <paramref name="minConfirmations"/>, in satoshis.</summary>
    public async Task<long> GetReceivedByAddressAsync(string address, int minConfirmations, CancellationToken ct = default) =>
        BitcoinAmount.ToSatoshis(await CallAsync("getreceivedbyaddress", ct, address, minConfirmations));

    /// <summary>Marks the block (and its descendants) invalid, so the node reorganises away from it.</summary>
    public Task InvalidateBlockAsync(string blockHash, CancellationToken ct = default) => CallAsync("invalidateblock", ct, blockHash);

    public Task ReconsiderBlockAsync(string blockHash, CancellationToken ct = default) => CallAsync("reconsiderblock", ct, blockHash);

    /// <summary>Satoshis as the exact decimal coin amount Bitcoin Core expects in sendtoaddress, sendmany and createrawtransaction.</summary>
    private static decimal Coins(long satoshis) => Money.Satoshis(satoshis).ToDecimal(MoneyUnit.BTC);

    private async Task<JToken> CallAsync(string method, CancellationToken ct, params object[] parameters)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_timeout);
        try
        {
            var response = await _rpc.SendCommandAsync(method, timeout.Token, parameters);
            return response.Result;
        }
        catch (RPCException error)
        {
            throw new JsonRpcException(method, (int)error.RPCCode, error.Message, error);
        }
        catch (OperationCanceledException exception) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"JSON-RPC '{method}' to {Endpoint} did not answer within {_timeout.TotalSeconds:0.#} s.", exception);
        }
    }

    private static T Read<T>(string method, JToken result, Func<JToken, T> parse)
    {
        try
        {
            return parse(result);
        }
        catch (Exception exception) when (exception is InvalidOperationException or FormatException or KeyNotFoundException or OverflowException or InvalidCastException)
        {
            var text = result.ToString(Newtonsoft.Json.Formatting.None);
            throw new FormatException($"JSON-RPC '{method}' returned a result this client cannot read ({exception.Message}): {(text.Length <= 500 ? text : text[..500] + "…")}", exception);
        }
    }

    private static BitcoinBlock ParseBlock(JToken block)
    {
        var transactions = Required(block, "tx");
        var parsed = new List<BitcoinTransaction>();
        foreach (var transaction in transactions)
        {
            if (transaction.Type != JTokenType.Object)
            {
                throw new FormatException("getblock returned txids only; verbosity 2 needs Bitcoin Core 0.16 or later");
            }

            parsed.Add(ParseTransaction(transaction));
        }

        return new BitcoinBlock(
            RequiredString(block, "hash"),
            Required(block, "height").Value<long>(),
            block.Value<string?>("previousblockhash"),
            Required(block, "confirmations").Value<long>(),
            Required(block, "time").Value<long>(),
            parsed);
    }

    /// <summary>
    /// Txid, addresses and scripts from the node's JSON; values from the transaction bytes decoded by NBitcoin. A
    /// transaction NBitcoin cannot decode (Litecoin MWEB data) falls back to the JSON numbers, read exactly or refused.
    /// </summary>
    private static BitcoinTransaction ParseTransaction(JToken transaction)
    {
        var decoded = transaction.Value<string?>("hex") is { } hex && TryDecode(hex, out var parsed) ? parsed : null;
        var isCoinbase = decoded?.IsCoinBase ?? (transaction["vin"]?.Any(input => input["coinbase"] is not null) ?? false);
        var outputs = new List<BitcoinOutput>();
        foreach (var output in Required(transaction, "vout"))
        {
            var index = Required(output, "n").Value<int>();
            var script = Required(output, "scriptPubKey");
            var value = decoded is not null ? decoded.Outputs[index].Value.Satoshi : BitcoinAmount.ToSatoshis(Required(output, "value"));
            outputs.Add(new BitcoinOutput(index, value, ScriptAddress(script), script.Value<string?>("hex") ?? ""));
        }

        return new BitcoinTransaction(RequiredString(transaction, "txid"), isCoinbase, outputs);
    }

    private static bool TryDecode(string hex, out Transaction transaction)
    {
        try
        {
            transaction = Transaction.Parse(hex, TransactionFormat);
            return true;
        }
        catch (FormatException)
        {
            transaction = null!;
            return false;
        }
    }

    /// <summary>Core 22+ prints "address"; earlier versions (Litecoin Core 0.21) an "addresses" array.</summary>
    private static string? ScriptAddress(JToken script) =>
        script.Value<string?>("address")
        ?? (script["addresses"] is JArray { Count: 1 } addresses ? addresses[0].Value<string>() : null);

    private static JToken Required(JToken element, string name) =>
        element[name] is { Type: not JTokenType.Null } value ? value : throw new KeyNotFoundException($"field '{name}' is missing");

    private static string RequiredString(JToken element, string name) =>
        Required(element, name).Value<string>() ?? throw new KeyNotFoundException($"field '{name}' is null");

    private static string StringResult(JToken result) =>
        result.Type == JTokenType.String ? result.Value<string>()! : throw new FormatException($"expected a string result, got {result.Type}");

    private static IReadOnlyList<string> StringArray(JToken result) =>
        [.. result.Select(item => item.Value<string>() ?? throw new FormatException("null in a list of strings"))];
}
