using CryptoPay.Chains.Payouts;

namespace CryptoPay.Grains.Settlements;

/// <summary>
/// A payout's proof (docs/PROOFS.md): its entry, the entry's Merkle branch to the root the batch committed on chain, and
/// where the chain has the transactions — checkable with any node of the network and a few lines of hashing.
/// </summary>
public sealed record PayoutProof(
    SettlementState Settlement,
    PayoutEntry Entry,
    byte[] Leaf,
    IReadOnlyList<MerkleStep> Branch,
    byte[] Root,
    SettlementTransaction Payment,
    SettlementTransaction Commitment);

public static class SettlementProofs
{
    /// <summary>The entry as the Merkle tree commits to it.</summary>
    public static PayoutEntry EntryOf(SettlementEntry entry, string network)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new PayoutEntry(entry.WithdrawalId, network, entry.Asset, entry.Address, entry.AmountUnits, entry.PaymentIds);
    }

    public static PayoutMerkleTree TreeOf(SettlementState settlement)
    {
        ArgumentNullException.ThrowIfNull(settlement);
        return PayoutMerkleTree.Build(settlement.Entries.Select(e => EntryOf(e, settlement.Network)));
    }

    /// <summary>The proof of <paramref name="withdrawalId"/>'s payout; null until both its transaction and the commitment are in a block.</summary>
    public static PayoutProof? For(SettlementState settlement, Guid withdrawalId)
    {
        ArgumentNullException.ThrowIfNull(settlement);
        if (settlement.Entries.Find(e => e.WithdrawalId == withdrawalId) is not { } entry ||
            settlement.TransactionOf(withdrawalId) is not { BlockHash: not null } payment ||
            settlement.CommitmentTransaction is not { BlockHash: not null } commitment)
        {
            return null;
        }

        var tree = TreeOf(settlement);
        var root = tree.Root();
        if (settlement.MerkleRoot != Convert.ToHexStringLower(root))
        {
            throw new InvalidOperationException($"Settlement {settlement.Id}: its entries hash to {Convert.ToHexStringLower(root)}, not to the root {settlement.MerkleRoot} it committed.");
        }

        return new PayoutProof(settlement, EntryOf(entry, settlement.Network), tree.LeafOf(withdrawalId), tree.BranchOf(withdrawalId), root, payment, commitment);
    }
}
