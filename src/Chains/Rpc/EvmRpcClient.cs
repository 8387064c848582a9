using System.Net.Http.Headers;
using System.Numerics;
using CryptoPay.Chains.Addresses;
using CryptoPay.Chains.Payouts;
using Nethereum.Hex.HexTypes;
using Nethereum.JsonRpc.Client;
using Nethereum.RPC.Eth.DTOs;
using Nethereum.Web3;

namespace CryptoPay.Chains.Rpc;

/// <summary>
/// Ethereum JSON-RPC (eth, bsc, and TRON's compatible endpoint through <see cref="TronRpcAdapter"/>) on Nethereum's
/// <see cref="Web3"/>. Quantities are <see cref="BigInteger"/>; addresses come back in EIP-55 form; node errors surface
/// as <see cref="JsonRpcException"/> with the node's code.
/// </summary>
public sealed class EvmRpcClient
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly RpcClient _client;
    private readonly Web3 _web3;
    private readonly TimeSpan _timeout;

    /// <param name="http">Owned by the caller.</param>
    /// <param name="endpoint">The node's JSON-RPC URL.</param>
    /// <param name="authorization">For providers behind basic or bearer auth; null for none.</param>
    public EvmRpcClient(HttpClient http, Uri endpoint, AuthenticationHeaderValue? authorization = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = endpoint;
        _client = new RpcClient(endpoint, http, authorization);
        _timeout = timeout ?? DefaultTimeout;
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(_timeout, TimeSpan.Zero);
        _web3 = new Web3(_client);
    }

    public Uri Endpoint { get; }

    /// <summary><c>web3_clientVersion</c>, e.g. Geth/v1.14…, for logs and health pages.</summary>
    public Task<string> GetClientVersionAsync(CancellationToken ct = default) =>
        CallAsync("web3_clientVersion", () => _web3.Client.SendRequestAsync<string>("web3_clientVersion"), ct);

    public async Task<long> GetChainIdAsync(CancellationToken ct = default) =>
        (long)(await CallAsync("eth_chainId", () => _web3.Eth.ChainId.SendRequestAsync(), ct)).Value;

    public async Task<long> GetBlockNumberAsync(CancellationToken ct = default) =>
        (long)(await CallAsync("eth_blockNumber", () => _web3.Eth.Blocks.GetBlockNumber.SendRequestAsync(), ct)).Value;

    /// <summary>The block at <paramref name="number"/>, or null when the node has no such block yet.</summary>
    public async Task<EvmBlock?> GetBlockByNumberAsync(long number, bool fullTransactions, CancellationToken ct = default)
    {
        var height = new BlockParameter(new HexBigInteger(number));
        if (fullTransactions)
        {
            var block = await CallAsync("eth_getBlockByNumber", () => _web3.Eth.Blocks.GetBlockWithTransactionsByNumber.SendRequestAsync(height), ct);
            return block is null
                ? null
                : ToBlock(block, [.. block.Transactions.Select(t => t.TransactionHash)], [.. block.Transactions.Select(ToTransaction)]);
        }

        var hashesOnly = await CallAsync("eth_getBlockByNumber", () => _web3.Eth.Blocks.GetBlockWithTransactionsHashesByNumber.SendRequestAsync(height), ct);
        return hashesOnly is null ? null : ToBlock(hashesOnly, hashesOnly.TransactionHashes, []);
    }

    /// <summary>
    /// The standard ERC-20 <c>Transfer</c> logs of <paramref name="contracts"/> in the block range, paid to any of
    /// <paramref name="recipients"/> (all recipients when empty). Logs that do not decode as a standard Transfer are dropped.
    /// </summary>
    public async Task<IReadOnlyList<Erc20TransferLog>> GetErc20TransfersAsync(
        long fromBlock, long toBlock, IReadOnlyList<string> contracts, IReadOnlyList<string> recipients, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(contracts);
        ArgumentNullException.ThrowIfNull(recipients);
        var filter = new NewFilterInput
        {
            FromBlock = new BlockParameter(new HexBigInteger(fromBlock)),
            ToBlock = new BlockParameter(new HexBigInteger(toBlock)),
            Address = contracts.Count == 0 ? null : [.. contracts],
            // Positional topics: Transfer, any sender, the recipients (null: anyone).
            Topics = [new[] { Erc20.TransferTopic }, null, recipients.Count == 0 ? null : recipients.Select(Erc20.AddressTopic).ToArray()],
        };
        var logs = await CallAsync("eth_getLogs", () => _web3.Eth.Filters.GetLogs.SendRequestAsync(filter), ct) ?? [];
        var transfers = new List<Erc20TransferLog>();
        foreach (var log in logs)
        {
            if (Erc20.TryDecodeTransfer(log, out var transfer))
            {
                transfers.Add(new Erc20TransferLog(
                    NormalizeAddress(log.Address), NormalizeAddress(transfer.From), NormalizeAddress(transfer.To), transfer.Value,
                    log.TransactionHash, (long)log.BlockNumber.Value, log.BlockHash, (long)log.LogIndex.Value, log.Removed));
            }
        }

        return transfers;
    }

    /// <summary>The receipt, or null while the transaction is pending or unknown.</summary>
    public async Task<EvmReceipt?> GetTransactionReceiptAsync(string transactionHash, CancellationToken ct = default)
    {
        var receipt = await CallAsync("eth_getTransactionReceipt", () => _web3.Eth.Transactions.GetTransactionReceipt.SendRequestAsync(transactionHash), ct);
        return receipt is null
            ? null
            : new EvmReceipt(
                receipt.TransactionHash,
                (long)receipt.BlockNumber.Value,
                receipt.BlockHash,
                receipt.Status is null ? null : receipt.Status.Value == BigInteger.One,
                receipt.ContractAddress is { } contract ? NormalizeAddress(contract) : null,
                receipt.GasUsed.Value,
                [.. (receipt.Logs ?? []).Select(ToLog)],
                (long)receipt.TransactionIndex.Value,
                receipt.EffectiveGasPrice?.Value);
    }

    /// <summary><c>eth_getTransactionByHash</c>: the transaction, mined or in the node's pool, or null when the node does not know it.</summary>
    public async Task<EvmTransaction?> GetTransactionByHashAsync(string transactionHash, CancellationToken ct = default)
    {
        var transaction = await CallAsync("eth_getTransactionByHash", () => _web3.Eth.Transactions.GetTransactionByHash.SendRequestAsync(transactionHash), ct);
        return transaction is null ? null : ToTransaction(transaction);
    }

    /// <summary>
    /// <c>eth_getTransactionCount</c>: how many transactions <paramref name="address"/> has sent, i.e. its next nonce — in
    /// mined blocks only, or counting the node's pool too when <paramref name="includePending"/>.
    /// </summary>
    public async Task<BigInteger> GetTransactionCountAsync(string address, bool includePending, CancellationToken ct = default)
    {
        var block = includePending ? BlockParameter.CreatePending() : BlockParameter.CreateLatest();
        return (await CallAsync("eth_getTransactionCount", () => _web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(address, block), ct)).Value;
    }

    /// <summary>An ERC-20 <c>balanceOf(owner)</c> (<c>eth_call</c> at the latest block), in the token's smallest unit.</summary>
    public Task<BigInteger> GetErc20BalanceAsync(string tokenContract, string owner, CancellationToken ct = default) =>
        CallAsync(
            "eth_call",
            () => _web3.Eth.GetContractQueryHandler<Erc20.BalanceOfFunction>().QueryAsync<BigInteger>(tokenContract, new Erc20.BalanceOfFunction { Owner = owner }),
            ct);

    /// <summary>The balance in wei at the latest block.</summary>
    public async Task<BigInteger> GetBalanceAsync(string address, CancellationToken ct = default) =>
        (await CallAsync("eth_getBalance", () => _web3.Eth.GetBalance.SendRequestAsync(address), ct)).Value;

    // ---- dev-node helpers (ganache, hardhat, anvil): node-held accounts and chain snapshots ----

    public async Task<IReadOnlyList<string>> GetAccountsAsync(CancellationToken ct = default) =>
        [.. (await CallAsync("eth_accounts", () => _web3.Eth.Accounts.SendRequestAsync(), ct)).Select(EvmAddress.ToChecksumAddress)];

    /// <summary>Sends from an account the node holds the key of; returns the transaction hash.</summary>
    public Task<string> SendTransactionAsync(EvmTransactionRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var input = new TransactionInput
        {
            From = request.From,
            To = request.To,
            Value = new HexBigInteger(request.Value),
            Data = request.Data,
            Gas = request.Gas is { } gas ? new HexBigInteger(gas) : null,
        };
        return CallAsync("eth_sendTransaction", () => _web3.Eth.Transactions.SendTransaction.SendRequestAsync(input), ct);
    }

    /// <summary>The chain id, <paramref name="sender"/>'s next nonce (pending included) and the node's gas price, for signing a payout.</summary>
    public async Task<EvmTransferTerms> GetTransferTermsAsync(string sender, BigInteger gasLimit, CancellationToken ct = default)
    {
        var nonce = await CallAsync("eth_getTransactionCount", () => _web3.Eth.Transactions.GetTransactionCount.SendRequestAsync(sender, BlockParameter.CreatePending()), ct);
        var gasPrice = await CallAsync("eth_gasPrice", () => _web3.Eth.GasPrice.SendRequestAsync(), ct);
        return new EvmTransferTerms(await GetChainIdAsync(ct), nonce.Value, gasPrice.Value, gasLimit);
    }

    /// <summary><c>eth_sendRawTransaction</c>: broadcasts a transaction signed elsewhere (payouts); returns its hash.</summary>
    public Task<string> SendRawTransactionAsync(string signedTransactionHex, CancellationToken ct = default) =>
        CallAsync("eth_sendRawTransaction", () => _web3.Eth.Transactions.SendRawTransaction.SendRequestAsync(signedTransactionHex), ct);

    /// <summary><c>evm_snapshot</c>: the id to revert to.</summary>
    public Task<string> SnapshotAsync(CancellationToken ct = default) =>
        CallAsync("evm_snapshot", () => _client.SendRequestAsync<string>("evm_snapshot"), ct);

    /// <summary><c>evm_revert</c>: true when the chain went back to the snapshot (which is then used up).</summary>
    public Task<bool> RevertAsync(string snapshotId, CancellationToken ct = default) =>
        CallAsync("evm_revert", () => _client.SendRequestAsync<bool>("evm_revert", null, snapshotId), ct);

    /// <summary><c>evm_mine</c>: one new block now.</summary>
    public Task MineAsync(CancellationToken ct = default) =>
        CallAsync("evm_mine", () => _client.SendRequestAsync<string>("evm_mine"), ct);

    /// <summary><c>miner_stop</c>: transactions wait in the node's pool until <see cref="StartMiningAsync"/>.</summary>
    public Task StopMiningAsync(CancellationToken ct = default) =>
        CallAsync("miner_stop", () => _client.SendRequestAsync<bool>("miner_stop"), ct);

    /// <summary><c>miner_start</c>: mining resumes, beginning with the transactions waiting in the pool.</summary>
    public Task StartMiningAsync(CancellationToken ct = default) =>
        CallAsync("miner_start", () => _client.SendRequestAsync<bool>("miner_start"), ct);

    /// <summary>
    /// EIP-55 form of a node's address. TRON's endpoint may print its 21-byte form (0x41‖20 bytes); the 0x41 is dropped
    /// so that every caller sees the same 20 account bytes.
    /// </summary>
    internal static string NormalizeAddress(string address)
    {
        var hex = address.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? address[2..] : address;
        if (hex.Length == 42 && hex.StartsWith("41", StringComparison.Ordinal))
        {
            hex = hex[2..];
        }

        return EvmAddress.ToChecksumAddress("0x" + hex);
    }

    /// <summary>Runs one Nethereum request, turning its exceptions into this client's: node errors, timeouts, HTTP failures.</summary>
    private async Task<T> CallAsync<T>(string method, Func<Task<T>> request, CancellationToken ct)
    {
        // Nethereum's own timeout is one process-wide setting; this client's is per call, like the Bitcoin client's.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_timeout);
        try
        {
            return await request().WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException exception) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"JSON-RPC '{method}' to {Endpoint} did not answer within {_timeout.TotalSeconds:0.#} s.", exception);
        }
        catch (RpcResponseException error)
        {
            throw new JsonRpcException(method, error.RpcError?.Code ?? 0, error.RpcError?.Message ?? error.Message, error);
        }
        catch (RpcClientTimeoutException nethereumTimeout)
        {
            throw new TimeoutException($"JSON-RPC '{method}' to {Endpoint} timed out in Nethereum.", nethereumTimeout);
        }
        catch (RpcClientUnknownException failure) when (failure.InnerException is HttpRequestException http)
        {
            throw new HttpRequestException($"JSON-RPC '{method}' to {Endpoint} failed: {http.Message}", failure, http.StatusCode);
        }
    }

    private static EvmBlock ToBlock(Block block, IReadOnlyList<string> hashes, IReadOnlyList<EvmTransaction> transactions) =>
        new((long)block.Number.Value, block.BlockHash, block.ParentHash, (long)block.Timestamp.Value, hashes, transactions);

    private static EvmTransaction ToTransaction(Transaction transaction) =>
        new(
            transaction.TransactionHash,
            NormalizeAddress(transaction.From),
            transaction.To is { } to ? NormalizeAddress(to) : null,
            transaction.Value?.Value ?? BigInteger.Zero,
            transaction.Input ?? "0x",
            transaction.BlockNumber is { } number ? (long)number.Value : null);

    private static EvmLog ToLog(FilterLog log) =>
        new(
            NormalizeAddress(log.Address),
            [.. log.Topics.Select(topic => topic.ToString()!)],
            log.Data,
            (long)log.BlockNumber.Value,
            log.BlockHash,
            log.TransactionHash,
            (long)log.LogIndex.Value,
            log.Removed);
}
