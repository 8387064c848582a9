using System.Net.Http.Headers;
using System.Text.Json;
using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Encoding;

namespace CryptoPay.Chains.Rpc;

/// <summary>
/// Ethereum JSON-RPC client (eth, bsc, and TRON's compatible endpoint through <see cref="TronRpcAdapter"/>).
/// Quantities are <see cref="System.Numerics.BigInteger"/> parsed from hex; addresses come back in EIP-55 form.
/// </summary>
public sealed class EvmRpcClient
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly JsonRpcTransport _transport;

    /// <param name="http">Owned by the caller.</param>
    /// <param name="endpoint">The node's JSON-RPC URL.</param>
    /// <param name="authorization">For providers behind basic or bearer auth; null for none.</param>
    public EvmRpcClient(HttpClient http, Uri endpoint, AuthenticationHeaderValue? authorization = null, TimeSpan? timeout = null) =>
        _transport = new JsonRpcTransport(http, endpoint, "2.0", timeout ?? DefaultTimeout, () => authorization);

    public Uri Endpoint => _transport.Endpoint;

    /// <summary><c>web3_clientVersion</c>, e.g. Geth/v1.14…, for logs and health pages.</summary>
    public Task<string> GetClientVersionAsync(CancellationToken ct = default) =>
        _transport.CallAsync("web3_clientVersion", _ => { }, result => result.GetString() ?? "", ct);

    public Task<long> GetChainIdAsync(CancellationToken ct = default) =>
        _transport.CallAsync("eth_chainId", _ => { }, QuantityInt64, ct);

    public Task<long> GetBlockNumberAsync(CancellationToken ct = default) =>
        _transport.CallAsync("eth_blockNumber", _ => { }, QuantityInt64, ct);

    /// <summary>The block at <paramref name="number"/>, or null when the node has no such block yet.</summary>
    public Task<EvmBlock?> GetBlockByNumberAsync(long number, bool fullTransactions, CancellationToken ct = default) =>
        _transport.CallAsync(
            "eth_getBlockByNumber",
            w =>
            {
                w.WriteStringValue(HexQuantity.Format(number));
                w.WriteBooleanValue(fullTransactions);
            },
            result => result.ValueKind == JsonValueKind.Null ? null : ParseBlock(result),
            ct);

    public Task<IReadOnlyList<EvmLog>> GetLogsAsync(EvmLogFilter filter, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return _transport.CallAsync(
            "eth_getLogs",
            w =>
            {
                w.WriteStartObject();
                w.WriteString("fromBlock", HexQuantity.Format(filter.FromBlock));
                w.WriteString("toBlock", HexQuantity.Format(filter.ToBlock));
                WriteOneOrMany(w, "address", filter.Addresses);
                w.WriteStartArray("topics");
                foreach (var position in filter.Topics)
                {
                    if (position is null)
                    {
                        w.WriteNullValue();
                        continue;
                    }

                    w.WriteStartArray();
                    foreach (var topic in position)
                    {
                        w.WriteStringValue(topic);
                    }

                    w.WriteEndArray();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            },
            ParseLogs,
            ct);
    }

    /// <summary>
    /// The standard ERC-20 <c>Transfer</c> logs of <paramref name="contracts"/> in the block range, paid to any of
    /// <paramref name="recipients"/> (all recipients when empty). Logs that do not decode as a standard Transfer are dropped.
    /// </summary>
    public async Task<IReadOnlyList<Erc20TransferLog>> GetErc20TransfersAsync(
        long fromBlock, long toBlock, IReadOnlyList<string> contracts, IReadOnlyList<string> recipients, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        var filter = new EvmLogFilter(
            fromBlock,
            toBlock,
            contracts,
            [[Erc20.TransferTopic], null, recipients.Count == 0 ? null : recipients.Select(Erc20.AddressTopic).ToArray()]);
        var logs = await GetLogsAsync(filter, ct);
        var transfers = new List<Erc20TransferLog>(logs.Count);
        foreach (var log in logs)
        {
            if (Erc20TransferLog.TryDecode(log, out var transfer))
            {
                transfers.Add(transfer);
            }
        }

        return transfers;
    }

    /// <summary>The receipt, or null while the transaction is pending or unknown.</summary>
    public Task<EvmReceipt?> GetTransactionReceiptAsync(string transactionHash, CancellationToken ct = default) =>
        _transport.CallAsync(
            "eth_getTransactionReceipt",
            w => w.WriteStringValue(transactionHash),
            result => result.ValueKind == JsonValueKind.Null ? null : ParseReceipt(result),
            ct);

    /// <summary>The balance in wei at the latest block.</summary>
    public Task<System.Numerics.BigInteger> GetBalanceAsync(string address, CancellationToken ct = default) =>
        _transport.CallAsync(
            "eth_getBalance",
            w =>
            {
                w.WriteStringValue(address);
                w.WriteStringValue("latest");
            },
            result => HexQuantity.Parse(result.GetString() ?? throw new FormatException("null balance")),
            ct);

    // ---- dev-node helpers (ganache, hardhat, anvil): node-held accounts and chain snapshots ----

    public Task<IReadOnlyList<string>> GetAccountsAsync(CancellationToken ct = default) =>
        _transport.CallAsync(
            "eth_accounts",
            _ => { },
            result => (IReadOnlyList<string>)result.StringArray().Select(EvmAddress.ToChecksumAddress).ToArray(),
            ct);

    /// <summary>Sends from an account the node holds the key of; returns the transaction hash.</summary>
    public Task<string> SendTransactionAsync(EvmTransactionRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _transport.CallAsync(
            "eth_sendTransaction",
            w =>
            {
                w.WriteStartObject();
                w.WriteString("from", request.From);
                if (request.To is not null)
                {
                    w.WriteString("to", request.To);
                }

                w.WriteString("value", HexQuantity.Format(request.Value));
                if (request.Data is not null)
                {
                    w.WriteString("data", request.Data);
                }

                if (request.Gas is { } gas)
                {
                    w.WriteString("gas", HexQuantity.Format(gas));
                }

                w.WriteEndObject();
            },
            result => result.GetString() ?? throw new FormatException("null transaction hash"),
            ct);
    }

    /// <summary><c>evm_snapshot</c>: the id to revert to.</summary>
    public Task<string> SnapshotAsync(CancellationToken ct = default) =>
        _transport.CallAsync("evm_snapshot", _ => { }, result => result.ValueKind == JsonValueKind.String ? result.GetString()! : result.GetRawText(), ct);

    /// <summary><c>evm_revert</c>: true when the chain went back to the snapshot (which is then used up).</summary>
    public Task<bool> RevertAsync(string snapshotId, CancellationToken ct = default) =>
        _transport.CallAsync("evm_revert", w => w.WriteStringValue(snapshotId), result => result.GetBoolean(), ct);

    /// <summary><c>evm_mine</c>: one new block now.</summary>
    public Task MineAsync(CancellationToken ct = default) =>
        _transport.CallAsync("evm_mine", _ => { }, _ => true, ct);

    private static long QuantityInt64(JsonElement result) =>
        HexQuantity.ParseInt64(result.GetString() ?? throw new FormatException("null quantity"));

    private static long QuantityInt64(JsonElement element, string name) => HexQuantity.ParseInt64(element.RequiredString(name));

    private static void WriteOneOrMany(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        if (values.Count == 0)
        {
            return;
        }

        w.WriteStartArray(name);
        foreach (var value in values)
        {
            w.WriteStringValue(value);
        }

        w.WriteEndArray();
    }

    /// <summary>
    /// EIP-55 form of a node's address. TRON's endpoint may print its 21-byte form (0x41‖20 bytes); the 0x41 is dropped
    /// so that every caller sees the same 20 account bytes.
    /// </summary>
    internal static string NormalizeAddress(string address)
    {
        var hex = address.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? address[2..] : address;
        if (hex.Length == 42 && hex.StartsWith("41", StringComparison.Ordinal) && Hex.IsHexDigits(hex))
        {
            hex = hex[2..];
        }

        return EvmAddress.ToChecksumAddress(Convert.FromHexString(hex));
    }

    private static EvmBlock ParseBlock(JsonElement block)
    {
        var hashes = new List<string>();
        var transactions = new List<EvmTransaction>();
        foreach (var transaction in block.Required("transactions").EnumerateArray())
        {
            if (transaction.ValueKind == JsonValueKind.String)
            {
                hashes.Add(transaction.GetString()!);
            }
            else
            {
                var parsed = ParseTransaction(transaction);
                hashes.Add(parsed.Hash);
                transactions.Add(parsed);
            }
        }

        return new EvmBlock(
            QuantityInt64(block, "number"),
            block.RequiredString("hash"),
            block.RequiredString("parentHash"),
            QuantityInt64(block, "timestamp"),
            hashes,
            transactions);
    }

    private static EvmTransaction ParseTransaction(JsonElement transaction) =>
        new(
            transaction.RequiredString("hash"),
            NormalizeAddress(transaction.RequiredString("from")),
            transaction.OptionalString("to") is { } to ? NormalizeAddress(to) : null,
            HexQuantity.Parse(transaction.RequiredString("value")),
            transaction.OptionalString("input") ?? "0x",
            transaction.OptionalString("blockNumber") is { } number ? HexQuantity.ParseInt64(number) : null);

    private static IReadOnlyList<EvmLog> ParseLogs(JsonElement logs)
    {
        var parsed = new List<EvmLog>(logs.GetArrayLength());
        foreach (var log in logs.EnumerateArray())
        {
            parsed.Add(ParseLog(log));
        }

        return parsed;
    }

    private static EvmLog ParseLog(JsonElement log) =>
        new(
            NormalizeAddress(log.RequiredString("address")),
            log.Required("topics").StringArray(),
            log.RequiredString("data"),
            QuantityInt64(log, "blockNumber"),
            log.RequiredString("blockHash"),
            log.RequiredString("transactionHash"),
            QuantityInt64(log, "logIndex"),
            log.TryGetProperty("removed", out var removed) && removed.ValueKind == JsonValueKind.True);

    private static EvmReceipt ParseReceipt(JsonElement receipt) =>
        new(
            receipt.RequiredString("transactionHash"),
            QuantityInt64(receipt, "blockNumber"),
            receipt.RequiredString("blockHash"),
            receipt.OptionalString("status") is { } status ? HexQuantity.Parse(status) == 1 : null,
            receipt.OptionalString("contractAddress") is { } contract ? NormalizeAddress(contract) : null,
            HexQuantity.Parse(receipt.RequiredString("gasUsed")),
            ParseLogs(receipt.Required("logs")));
}
