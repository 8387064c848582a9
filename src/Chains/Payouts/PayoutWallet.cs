using System.Numerics;

namespace CryptoPay.Chains.Payouts;

/// <summary>
/// One transfer of a settlement batch: the destination, exact units and, for a token, its contract (null: the
/// network's native coin).
/// </summary>
public sealed record PayoutOutput(string Address, BigInteger Units, string? TokenContract = null);

/// <summary>A signed transaction of a batch: its id on chain and the exact bytes (hex) that are broadcast, and rebroadcast after any crash.</summary>
public sealed record SignedPayout(string Txid, string Hex);

/// <summary>
/// A batch signed and not yet broadcast: UTXO chains one transaction paying every output plus an OP_RETURN carrying the
/// commitment; EVM chains one transaction whose data is the commitment, then one transfer per output, with consecutive
/// nonces. <paramref name="EstimatedFeeUnits"/> is the network fee the wallet expects to pay, in the native coin's units.
/// </summary>
public sealed record SignedPayoutBatch(IReadOnlyList<SignedPayout> Transactions, BigInteger EstimatedFeeUnits);

public enum PayoutTransactionState
{
    /// <summary>The node does not know it (never broadcast, or dropped).</summary>
    Unknown,

    /// <summary>In the node's mempool, not in a block.</summary>
    Pending,

    /// <summary>In a block of the active chain.</summary>
    Confirmed,

    /// <summary>Can never confirm: its inputs were spent elsewhere (UTXO) or its nonce used by another transaction (EVM).</summary>
    Conflicted,

    /// <summary>EVM: mined but reverted; its transfer did not happen.</summary>
    Reverted,
}

/// <summary>
/// Where a signed payout stands on the node. For a confirmed one: the block, the confirmations, the fee actually paid
/// (native units), and the node's inclusion data — UTXO: <c>gettxoutproof</c> hex; EVM: the transaction's index in its block.
/// </summary>
public sealed record PayoutTransactionStatus(
    PayoutTransactionState State,
    int Confirmations = 0,
    string? BlockHash = null,
    long? BlockHeight = null,
    BigInteger? FeeUnits = null,
    string? InclusionProof = null);

/// <summary>The node refused a broadcast for good (not a transport failure): the transaction can never be mined as signed.</summary>
public sealed class PayoutRejectedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The hot wallet cannot pay the batch now (too little balance); nothing was signed, the batch may be tried again later.</summary>
public sealed class PayoutFundsException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The hot wallet of one network, used by the settlement batch grain: sign a batch (nothing broadcast), broadcast signed
/// bytes (idempotent: a transaction the node already has is not an error), and follow a transaction to its block.
/// </summary>
public interface IPayoutWallet
{
    /// <summary>
    /// Signs every output of the batch and the <paramref name="commitment"/> (<see cref="PayoutMerkleTree.Commitment"/>:
    /// "CPAY" ‖ 0x01 ‖ the batch's Merkle root, 37 bytes) in entry order; broadcasts nothing.
    /// </summary>
    /// <exception cref="PayoutFundsException">The hot wallet's balance does not cover the outputs and fees.</exception>
    Task<SignedPayoutBatch> SignAsync(IReadOnlyList<PayoutOutput> outputs, byte[] commitment, CancellationToken ct);

    /// <summary>Sends the signed bytes to the node. Returns quietly when the node already has them (mempool or chain).</summary>
    /// <exception cref="PayoutRejectedException">The node refused them for good (inputs spent, nonce used).</exception>
    Task BroadcastAsync(SignedPayout transaction, CancellationToken ct);

    Task<PayoutTransactionStatus> GetStatusAsync(SignedPayout transaction, CancellationToken ct);
}
