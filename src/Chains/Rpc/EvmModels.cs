using System.Numerics;

namespace CryptoPay.Chains.Rpc;

/// <summary>A block from <c>eth_getBlockByNumber</c>; <see cref="Transactions"/> is empty unless asked for in full.</summary>
public sealed record EvmBlock(
    long Number,
    string Hash,
    string ParentHash,
    long Timestamp,
    IReadOnlyList<string> TransactionHashes,
    IReadOnlyList<EvmTransaction> Transactions);

/// <summary>A transaction; <paramref name="To"/> is null for contract creation, <paramref name="Value"/> is in wei.</summary>
public sealed record EvmTransaction(string Hash, string From, string? To, BigInteger Value, string Input, long? BlockNumber);

/// <summary>A log entry; <paramref name="Removed"/> is true when a reorganisation dropped it.</summary>
public sealed record EvmLog(
    string Address,
    IReadOnlyList<string> Topics,
    string Data,
    long BlockNumber,
    string BlockHash,
    string TransactionHash,
    long LogIndex,
    bool Removed);

/// <summary>
/// A transaction receipt; <paramref name="Succeeded"/> is null before Byzantium (no status field),
/// <paramref name="EffectiveGasPrice"/> null from nodes older than London (the transaction's gas price then applies).
/// </summary>
public sealed record EvmReceipt(
    string TransactionHash,
    long BlockNumber,
    string BlockHash,
    bool? Succeeded,
    string? ContractAddress,
    BigInteger GasUsed,
    IReadOnlyList<EvmLog> Logs,
    long TransactionIndex,
    BigInteger? EffectiveGasPrice);

/// <summary>What <c>eth_sendTransaction</c> sends from a node-held account (dev nodes only).</summary>
public sealed record EvmTransactionRequest(string From, string? To, BigInteger Value, string? Data = null, long? Gas = null);
