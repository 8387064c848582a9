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

/// <summary><c>fundrawtransaction</c>: the funded, still unsigned transaction, the fee it pays and where the change went (-1: none).</summary>
public sealed record BitcoinFundedTransaction(string Hex, long FeeSatoshis, int ChangePosition);

/// <summary><c>signrawtransactionwithwallet</c>: the transaction with the signatures the wallet could make; broadcastable only when <paramref name="Complete"/>.</summary>
/// <param name="Errors">One line per input that could not be signed.</param>
public sealed record BitcoinSignedTransaction(string Hex, bool Complete, IReadOnlyList<string> Errors);

/// <summary>
/// The wallet's <c>gettransaction</c>. <paramref name="Confirmations"/>: 0 in the mempool, 1 for the tip's block,
/// negative when conflicted by a transaction that deep. <paramref name="FeeSatoshis"/> is positive, null unless the
/// wallet sent it. <paramref name="WalletConflicts"/>: wallet transactions spending the same inputs.
/// </summary>
public sealed record BitcoinWalletTransaction(
    string Txid,
    string Hex,
    long Confirmations,
    string? BlockHash,
    long? BlockHeight,
    long? FeeSatoshis,
    IReadOnlyList<string> WalletConflicts);
