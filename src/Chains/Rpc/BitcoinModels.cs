namespace CryptoPay.Chains.Rpc;

/// <summary>A block read with <c>getblock</c> verbosity 2.</summary>
/// <param name="Confirmations">1 for the tip, growing with depth; -1 when the block is not on the active chain.</param>
public sealed record BitcoinBlock(
    string Hash,
    long Height,
    string? PreviousBlockHash,
    long Confirmations,
    long Time,
    IReadOnlyList<BitcoinTransaction> Transactions);

/// <summary>A transaction with its outputs; the inputs matter to the gateway only as "is it a coinbase".</summary>
public sealed record BitcoinTransaction(string Txid, bool IsCoinbase, IReadOnlyList<BitcoinOutput> Outputs);

/// <summary>One output: <paramref name="Value"/> in satoshis (litoshis), <paramref name="Address"/> null for scripts without one.</summary>
public sealed record BitcoinOutput(int Index, long Value, string? Address, string ScriptPubKeyHex);

/// <summary>
/// <c>getrawtransaction</c>: always the hex; the decoded transaction and its block only when asked verbose
/// (<paramref name="BlockHash"/> null and <paramref name="Confirmations"/> 0 while it sits in the mempool).
/// </summary>
public sealed record BitcoinRawTransaction(string Hex, BitcoinTransaction? Details, string? BlockHash, long Confirmations);

/// <summary>What <c>getnetworkinfo</c> says about the node's software.</summary>
public sealed record BitcoinNodeVersion(long Version, string Subversion);
