using System.Net.Http.Headers;
using System.Numerics;
using System.Text;
using CryptoPay.Chains.Networks;
using CryptoPay.Chains.Rpc;

namespace CryptoPay.Grains.Deposits;

/// <summary>An output (UTXO) or transfer (native EVM value, token log) paying an address, before we know whether the address is ours.</summary>
/// <param name="OutputIndex">UTXO: the output's n. EVM: the log index for tokens, 0 for a native transfer (an EOA recipient emits no logs).</param>
public sealed record ChainOutput(string Address, string Asset, string Txid, int OutputIndex, BigInteger AmountUnits);

/// <summary>A block of the active chain with every output in it that pays some address.</summary>
public sealed record ChainBlock(long Height, string Hash, string PreviousHash, IReadOnlyList<ChainOutput> Outputs);

/// <summary>The node changed under a read (a block replaced while we read the range): the poll is abandoned and retried.</summary>
public sealed class ChainReadRaceException(string message) : Exception(message);

/// <summary>Reads one network's node. Used outside turns only, by <see cref="ChainWatchRunner"/>; one instance per network and silo.</summary>
public interface IChainReader
{
    Task<long> GetTipAsync(CancellationToken ct);

    Task<string> GetBlockHashAsync(long height, CancellationToken ct);

    /// <summary>Blocks <paramref name="from"/>..<paramref name="to"/> in order, each following the previous one.</summary>
    Task<IReadOnlyList<ChainBlock>> ReadBlocksAsync(long from, long to, CancellationToken ct);

    /// <summary>Outputs of the transactions in the mempool; null when this chain's mempool is not watched.</summary>
    Task<IReadOnlyList<ChainOutput>?> ReadMempoolAsync(CancellationToken ct);

    /// <summary>Of the matched outputs, those that really moved value (EVM: native transfers whose transaction succeeded).</summary>
    Task<IReadOnlyList<ChainOutput>> KeepSucceededAsync(IReadOnlyList<ChainOutput> matched, CancellationToken ct);
}

public static class ChainReaders
{
    /// <summary>The reader for a configured network: Bitcoin Core JSON-RPC for btc/ltc, Ethereum JSON-RPC for eth/bsc, TRON's compatible endpoint for tron.</summary>
    public static IChainReader Create(string networkId, ChainNetworkOptions options, HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(options);
        var endpoint = new Uri(options.RpcUrl ?? throw new InvalidOperationException($"Chains:Networks:{networkId}:RpcUrl is required to watch {networkId}."));
        var network = Network.Get(networkId);
        switch (network.Family)
        {
            case NetworkFamily.Utxo:
                var credentials = options.RpcUser is null
                    ? throw new InvalidOperationException($"Chains:Networks:{networkId}:RpcUser and RpcPassword are required to watch {networkId}.")
                    : BitcoinRpcCredentials.UserPassword(options.RpcUser, options.RpcPassword ?? "");
                return new UtxoChainReader(new BitcoinRpcClient(http, endpoint, credentials), network.NativeSymbol);
            case NetworkFamily.Evm:
            case NetworkFamily.Tron:
                AuthenticationHeaderValue? authorization = options.RpcUser is null ? null
                    : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.RpcUser}:{options.RpcPassword}")));
                var evm = new EvmRpcClient(http, endpoint, authorization);
                return network.Family == NetworkFamily.Tron
                    ? new TronChainReader(new TronRpcAdapter(evm), evm, options.Tokens)
                    : new EvmChainReader(evm, network.NativeSymbol, options.Tokens);
            default:
                throw new InvalidOperationException($"Network {networkId} is not watched from a node.");
        }
    }
}

/// <summary>Bitcoin Core / Litecoin Core: <c>getblock</c> verbosity 2 for blocks, <c>getrawmempool</c> + <c>getrawtransaction</c> for the mempool.</summary>
public sealed class UtxoChainReader(BitcoinRpcClient rpc, string nativeAsset) : IChainReader
{
    // Mempool transactions already decoded, by txid (an empty list: pays no address); pruned to the current mempool.
    private readonly Dictionary<string, IReadOnlyList<ChainOutput>> mempoolCache = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim mempoolLock = new(1, 1);

    public Task<long> GetTipAsync(CancellationToken ct) => rpc.GetBlockCountAsync(ct);

    public Task<string> GetBlockHashAsync(long height, CancellationToken ct) => rpc.GetBlockHashAsync(height, ct);

    public async Task<IReadOnlyList<ChainBlock>> ReadBlocksAsync(long from, long to, CancellationToken ct)
    {
        var blocks = new List<ChainBlock>();
        for (var height = from; height <= to; height++)
        {
            var block = await rpc.GetBlockAsync(await rpc.GetBlockHashAsync(height, ct), ct);
            if (block.Confirmations < 0 || block.Height != height || (blocks.Count > 0 && block.PreviousBlockHash != blocks[^1].Hash))
            {
                throw new ChainReadRaceException($"Block {height} changed while reading {from}..{to}.");
            }

            // Coinbase outputs are not payments (and cannot be spent for 100 blocks).
            var outputs = block.Transactions.Where(t => !t.IsCoinbase).SelectMany(Outputs).ToList();
            blocks.Add(new ChainBlock(block.Height, block.Hash, block.PreviousBlockHash ?? "", outputs));
        }

        return blocks;
    }

    public async Task<IReadOnlyList<ChainOutput>?> ReadMempoolAsync(CancellationToken ct)
    {
        await mempoolLock.WaitAsync(ct);
        try
        {
            var txids = await rpc.GetRawMempoolAsync(ct);
            var current = txids.ToHashSet(StringComparer.Ordinal);
            foreach (var gone in mempoolCache.Keys.Where(k => !current.Contains(k)).ToList())
            {
                mempoolCache.Remove(gone);
            }

            var outputs = new List<ChainOutput>();
            foreach (var txid in txids)
            {
                if (!mempoolCache.TryGetValue(txid, out var cached))
                {
                    try
                    {
                        var transaction = await rpc.GetRawTransactionAsync(txid, verbose: true, ct);
                        // Mined between getrawmempool and now: the block read that follows finds it.
                        cached = transaction.BlockHash is null && transaction.Details is { } details ? [.. Outputs(details)] : [];
                    }
                    catch (JsonRpcException error) when (error.Code == -5)
                    {
                        cached = []; // left the mempool meanwhile (replaced or evicted)
                    }

                    mempoolCache[txid] = cached;
                }

                outputs.AddRange(cached);
            }

            return outputs;
        }
        finally
        {
            mempoolLock.Release();
        }
    }

    public Task<IReadOnlyList<ChainOutput>> KeepSucceededAsync(IReadOnlyList<ChainOutput> matched, CancellationToken ct) => Task.FromResult(matched);

    private IEnumerable<ChainOutput> Outputs(BitcoinTransaction transaction) =>
        transaction.Outputs.Where(o => o.Address is not null && o.Value > 0)
            .Select(o => new ChainOutput(o.Address!, nativeAsset, transaction.Txid, o.Index, o.Value));
}

/// <summary>
/// Ethereum JSON-RPC (eth, bsc): native transfers from <c>eth_getBlockByNumber</c> with transactions, token transfers
/// from <c>eth_getLogs</c> (standard Transfer events of the configured contracts). The mempool is not watched.
/// </summary>
public sealed class EvmChainReader(EvmRpcClient rpc, string nativeAsset, IReadOnlyDictionary<string, string> tokens) : IChainReader
{
    private readonly Dictionary<string, string> assetByContract =
        tokens.ToDictionary(t => t.Value.ToLowerInvariant(), t => t.Key.ToUpperInvariant(), StringComparer.Ordinal);

    public Task<long> GetTipAsync(CancellationToken ct) => rpc.GetBlockNumberAsync(ct);

    public Task<string> GetBlockHashAsync(long height, CancellationToken ct) => EvmBlockReading.HashAsync(rpc, height, ct);

    public async Task<IReadOnlyList<ChainBlock>> ReadBlocksAsync(long from, long to, CancellationToken ct)
    {
        var blocks = await EvmBlockReading.ReadAsync(rpc, from, to, fullTransactions: true, block => block.Transactions
            .Where(t => t.To is not null && t.Value.Sign > 0)
            .Select(t => new ChainOutput(t.To!, nativeAsset, t.Hash, 0, t.Value)), ct);
        if (assetByContract.Count > 0)
        {
            var transfers = await rpc.GetErc20TransfersAsync(from, to, [.. tokens.Values], [], ct);
            blocks.AddTransfers(transfers.Select(t => (t.BlockNumber, t.BlockHash, t.Removed,
                new ChainOutput(t.To, assetByContract[t.Contract.ToLowerInvariant()], t.TransactionHash, checked((int)t.LogIndex), t.Value))));
        }

        return blocks.ToChainBlocks();
    }

    public Task<IReadOnlyList<ChainOutput>?> ReadMempoolAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<ChainOutput>?>(null);

    /// <summary>A native transfer counts only when its transaction succeeded (token logs exist only for successful ones).</summary>
    public async Task<IReadOnlyList<ChainOutput>> KeepSucceededAsync(IReadOnlyList<ChainOutput> matched, CancellationToken ct)
    {
        var kept = new List<ChainOutput>(matched.Count);
        foreach (var output in matched)
        {
            if (!string.Equals(output.Asset, nativeAsset, StringComparison.OrdinalIgnoreCase) ||
                (await rpc.GetTransactionReceiptAsync(output.Txid, ct))?.Succeeded != false)
            {
                kept.Add(output);
            }
        }

        return kept;
    }
}

/// <summary>
/// TRON through its Ethereum-compatible JSON-RPC, via <see cref="TronRpcAdapter"/>: TRC-20 transfers of the configured
/// contracts, addresses in TRON base58 form. Native TRX is not an accepted payment method, so only token logs count.
/// </summary>
public sealed class TronChainReader(TronRpcAdapter tron, EvmRpcClient rpc, IReadOnlyDictionary<string, string> tokens) : IChainReader
{
    private readonly Dictionary<string, string> assetByContract =
        tokens.ToDictionary(t => TronContract(t.Value), t => t.Key.ToUpperInvariant(), StringComparer.Ordinal);

    public Task<long> GetTipAsync(CancellationToken ct) => tron.GetBlockNumberAsync(ct);

    public Task<string> GetBlockHashAsync(long height, CancellationToken ct) => EvmBlockReading.HashAsync(rpc, height, ct);

    public async Task<IReadOnlyList<ChainBlock>> ReadBlocksAsync(long from, long to, CancellationToken ct)
    {
        var blocks = await EvmBlockReading.ReadAsync(rpc, from, to, fullTransactions: false, _ => [], ct);
        if (assetByContract.Count > 0)
        {
            var transfers = await tron.GetTrc20TransfersAsync(from, to, [.. assetByContract.Keys], [], ct);
            blocks.AddTransfers(transfers.Select(t => (t.BlockNumber, t.BlockHash, t.Removed,
                new ChainOutput(t.To, assetByContract[t.Contract], t.TransactionHash, checked((int)t.LogIndex), t.Value))));
        }

        return blocks.ToChainBlocks();
    }

    public Task<IReadOnlyList<ChainOutput>?> ReadMempoolAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<ChainOutput>?>(null);

    public Task<IReadOnlyList<ChainOutput>> KeepSucceededAsync(IReadOnlyList<ChainOutput> matched, CancellationToken ct) => Task.FromResult(matched);

    /// <summary>Contracts may be configured as "T…" or 0x; the adapter speaks "T…".</summary>
    private static string TronContract(string contract) =>
        contract.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? TronRpcAdapter.ToTron(contract) : contract;
}

/// <summary>The block walk EVM-family readers share: consecutive blocks with their parent links checked, and token logs placed in the blocks read.</summary>
internal static class EvmBlockReading
{
    public static async Task<string> HashAsync(EvmRpcClient rpc, long height, CancellationToken ct) =>
        (await rpc.GetBlockByNumberAsync(height, fullTransactions: false, ct))?.Hash
        ?? throw new ChainReadRaceException($"Block {height} is gone.");

    /// <summary>Blocks <paramref name="from"/>..<paramref name="to"/>, each following the one before, with the outputs <paramref name="outputsOf"/> finds in it.</summary>
    public static async Task<List<(EvmBlock Block, List<ChainOutput> Outputs)>> ReadAsync(
        EvmRpcClient rpc, long from, long to, bool fullTransactions, Func<EvmBlock, IEnumerable<ChainOutput>> outputsOf, CancellationToken ct)
    {
        var blocks = new List<(EvmBlock Block, List<ChainOutput> Outputs)>();
        for (var height = from; height <= to; height++)
        {
            var block = await rpc.GetBlockByNumberAsync(height, fullTransactions, ct)
                ?? throw new ChainReadRaceException($"Block {height} is gone.");
            if (blocks.Count > 0 && block.ParentHash != blocks[^1].Block.Hash)
            {
                throw new ChainReadRaceException($"Block {height} changed while reading {from}..{to}.");
            }

            blocks.Add((block, outputsOf(block).ToList()));
        }

        return blocks;
    }

    /// <summary>Adds token transfers to the blocks they belong to; a log of a block other than the one read means the chain moved meanwhile.</summary>
    public static void AddTransfers(this List<(EvmBlock Block, List<ChainOutput> Outputs)> blocks, IEnumerable<(long BlockNumber, string BlockHash, bool Removed, ChainOutput Output)> transfers)
    {
        var byHeight = blocks.ToDictionary(b => b.Block.Number);
        foreach (var (number, hash, removed, output) in transfers)
        {
            if (removed)
            {
                continue;
            }

            if (!byHeight.TryGetValue(number, out var block) || block.Block.Hash != hash)
            {
                throw new ChainReadRaceException($"A transfer log of block {number} belongs to another block than the one read.");
            }

            block.Outputs.Add(output);
        }
    }

    public static IReadOnlyList<ChainBlock> ToChainBlocks(this List<(EvmBlock Block, List<ChainOutput> Outputs)> blocks) =>
        [.. blocks.Select(b => new ChainBlock(b.Block.Number, b.Block.Hash, b.Block.ParentHash, b.Outputs))];
}
