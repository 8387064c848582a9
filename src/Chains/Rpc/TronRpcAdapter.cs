using System.Numerics;
using CryptoPay.Chains.Addresses;

namespace CryptoPay.Chains.Rpc;

/// <summary>A TRON transaction with base58 "T…" addresses; <paramref name="Value"/> in sun.</summary>
public sealed record TronTransaction(string Hash, string From, string? To, BigInteger Value, string Input, long? BlockNumber);

/// <summary>A TRON block with its transactions in TRON address form.</summary>
public sealed record TronBlock(long Number, string Hash, string ParentHash, long Timestamp, IReadOnlyList<TronTransaction> Transactions);

/// <summary>
/// TRON through its Ethereum-compatible JSON-RPC: the calls are the EVM ones with 0x addresses, so this adapter only
/// converts addresses at the edges — base58 "T…" in, 0x to the node, base58 back out — and the rest of the gateway
/// never sees a 0x TRON address.
/// </summary>
public sealed class TronRpcAdapter(EvmRpcClient evm)
{
    private readonly EvmRpcClient _evm = evm ?? throw new ArgumentNullException(nameof(evm));

    public Task<long> GetBlockNumberAsync(CancellationToken ct = default) => _evm.GetBlockNumberAsync(ct);

    public async Task<TronBlock?> GetBlockByNumberAsync(long number, CancellationToken ct = default)
    {
        var block = await _evm.GetBlockByNumberAsync(number, fullTransactions: true, ct);
        return block is null
            ? null
            : new TronBlock(
                block.Number,
                block.Hash,
                block.ParentHash,
                block.Timestamp,
                block.Transactions
                    .Select(t => new TronTransaction(t.Hash, ToTron(t.From), t.To is null ? null : ToTron(t.To), t.Value, t.Input, t.BlockNumber))
                    .ToArray());
    }

    /// <summary>
    /// TRC-20 Transfer logs of the <paramref name="contracts"/> ("T…") paid to any of <paramref name="recipients"/> ("T…"),
    /// with contract, sender and recipient in "T…" form.
    /// </summary>
    public async Task<IReadOnlyList<Erc20TransferLog>> GetTrc20TransfersAsync(
        long fromBlock, long toBlock, IReadOnlyList<string> contracts, IReadOnlyList<string> recipients, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(contracts);
        ArgumentNullException.ThrowIfNull(recipients);
        var transfers = await _evm.GetErc20TransfersAsync(
            fromBlock, toBlock, contracts.Select(ToEvm).ToArray(), recipients.Select(ToEvm).ToArray(), ct);
        return transfers
            .Select(t => t with { Contract = ToTron(t.Contract), From = ToTron(t.From), To = ToTron(t.To) })
            .ToArray();
    }

    /// <summary>"T…" → the 0x address the JSON-RPC endpoint expects.</summary>
    public static string ToEvm(string tronAddress) => TronAddress.ToEvmAddress(tronAddress);

    /// <summary>A 0x address from the endpoint (20 bytes, or 21 with TRON's 0x41) → "T…".</summary>
    public static string ToTron(string evmAddress) => TronAddress.FromEvmAddress(EvmRpcClient.NormalizeAddress(evmAddress));
}
