using System.ComponentModel;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Settlements;

namespace CryptoPay.Api.Settlements;

/// <summary>The payout a proof is about: exactly the fields its Merkle leaf hashes (docs/PROOFS.md).</summary>
public sealed record ProofEntryResponse(
    Guid WithdrawalId,
    string Network,
    [property: Description("The balance asset (LTC, USDT-ETH).")] string Asset,
    string Address,
    [property: Description("The amount in the asset's smallest units, as a decimal string.")] string AmountUnits,
    [property: Description("The deposits an automatic settlement paid out; empty for a withdrawal.")] IReadOnlyList<string> PaymentIds);

public sealed record ProofStepResponse([property: Description("left or right: where the sibling goes when hashing.")] string Side, string Hash);

/// <summary>A proof that a payout was in a settlement batch whose Merkle root is committed on chain, and that the chain paid it.</summary>
public sealed record ProofResponse(
    [property: Description("The proof's id: the withdrawal's.")] Guid Id,
    Guid SettlementId,
    string Network,
    ProofEntryResponse Entry,
    [property: Description("The amount as a decimal string of the asset.")] string Amount,
    [property: Description("SHA-256(0x00 ‖ the entry's canonical bytes), hex.")] string Leaf,
    [property: Description("From the leaf up: each sibling hash and its side; a node is SHA-256(0x01 ‖ left ‖ right).")] IReadOnlyList<ProofStepResponse> Branch,
    string MerkleRoot,
    [property: Description("\"CPAY\" ‖ 0x01 ‖ root, hex: the OP_RETURN data (btc/ltc) or the commitment transaction's input (eth/bsc).")] string Commitment,
    [property: Description("The transaction that paid the entry.")] string Txid,
    string BlockHash,
    long BlockHeight,
    int Confirmations,
    [property: Description("btc/ltc: the node's gettxoutproof of txid (check it with verifytxoutproof); null on EVM networks.")] string? TxoutProof,
    [property: Description("The transaction carrying the commitment: txid itself on btc/ltc.")] string CommitmentTxid,
    [property: Description("EVM: the payout transaction's index in its block.")] int? TransactionIndex);

public static class ProofResponses
{
    public static ProofResponse ToResponse(this PayoutProof proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        var entry = proof.Settlement.Entries.Single(e => e.WithdrawalId == proof.Entry.WithdrawalId);
        var utxo = proof.Settlement.Transactions.Count == 1;
        return new ProofResponse(
            proof.Entry.WithdrawalId, proof.Settlement.Id, proof.Settlement.Network,
            new ProofEntryResponse(proof.Entry.WithdrawalId, proof.Entry.Network, proof.Entry.Asset, proof.Entry.Address, proof.Entry.AmountUnits.ToString(System.Globalization.CultureInfo.InvariantCulture), proof.Entry.PaymentIds),
            LedgerKeys.FormatUnits(entry.AmountUnits, entry.Decimals),
            Convert.ToHexStringLower(proof.Leaf),
            [.. proof.Branch.Select(s => new ProofStepResponse(s.SideName, Convert.ToHexStringLower(s.Hash)))],
            Convert.ToHexStringLower(proof.Root),
            Convert.ToHexStringLower(Chains.Payouts.PayoutMerkleTree.Commitment(proof.Root)),
            proof.Payment.Txid, proof.Payment.BlockHash!, proof.Payment.BlockHeight!.Value, proof.Payment.Confirmations,
            utxo ? proof.Payment.InclusionProof : null,
            proof.Commitment.Txid,
            utxo || proof.Payment.InclusionProof is null ? null : int.Parse(proof.Payment.InclusionProof, System.Globalization.CultureInfo.InvariantCulture));
    }
}
