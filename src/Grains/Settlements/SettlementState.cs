using System.Numerics;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using Orleans;

namespace CryptoPay.Grains.Settlements;

/// <summary>
/// Where a settlement batch stands. Merchants see <c>open → broadcast → confirmed → finalized | failed</c>;
/// <see cref="Claiming"/> and <see cref="Signed"/> show as <c>open</c>, and <see cref="Empty"/> (every candidate was
/// cancelled before it could be claimed) is the grain's own.
/// </summary>
public enum SettlementStatus
{
    /// <summary>Candidates written; each withdrawal is being claimed (queued → processing in this batch).</summary>
    Claiming,

    /// <summary>Entries fixed, the transactions signed and written; not yet accepted by the node.</summary>
    Signed,

    /// <summary>The node accepted every transaction; none is in a block yet (or a reorganisation took it out).</summary>
    Broadcast,

    /// <summary>Every transaction is in a block, some with fewer confirmations than required.</summary>
    Confirmed,

    /// <summary>Every transaction has the confirmations required: the withdrawals are completed.</summary>
    Finalized,

    /// <summary>A transaction can never confirm, or the operator failed the batch before broadcast: the withdrawals failed and their reservations were released.</summary>
    Failed,

    /// <summary>No candidate could be claimed: nothing to pay.</summary>
    Empty,
}

/// <summary>One payout of the batch, copied from its withdrawal when claimed: what the transaction pays and the Merkle tree commits to.</summary>
[GenerateSerializer]
[Alias("cryptopay.settlement-entry")]
public sealed record SettlementEntry
{
    [Id(0)]
    public Guid WithdrawalId { get; init; }

    [Id(1)]
    public Guid MerchantId { get; init; }

    [Id(2)]
    public Mode Mode { get; init; }

    /// <summary>The asset as balances name it (<c>LTC</c>, <c>USDT-ETH</c>).</summary>
    [Id(3)]
    public string Asset { get; init; } = "";

    [Id(4)]
    public string AssetCode { get; init; } = "";

    [Id(5)]
    public int Decimals { get; init; }

    [Id(6)]
    public string Address { get; init; } = "";

    [Id(7)]
    public BigInteger AmountUnits { get; init; }

    /// <summary>The fee the merchant was charged for this payout (asset units); the network fee actually paid is the batch's.</summary>
    [Id(8)]
    public BigInteger FeeUnits { get; init; }

    /// <summary>The token's contract on EVM networks; null for the native coin.</summary>
    [Id(9)]
    public string? TokenContract { get; init; }

    /// <summary>The deposits (payment ids) an automatic settlement pays out; empty for a withdrawal asked for by hand.</summary>
    [Id(10)]
    public List<string> PaymentIds { get; init; } = [];
}

/// <summary>One signed transaction of the batch and what the node last said of it.</summary>
[GenerateSerializer]
[Alias("cryptopay.settlement-transaction")]
public sealed record SettlementTransaction
{
    [Id(0)]
    public string Txid { get; init; } = "";

    /// <summary>The signed bytes, written before the first broadcast; every rebroadcast sends exactly these.</summary>
    [Id(1)]
    public string Hex { get; init; } = "";

    /// <summary>The entry this transaction pays (EVM: one transfer each); null for the UTXO transaction paying all, or the EVM commitment.</summary>
    [Id(2)]
    public Guid? WithdrawalId { get; init; }

    [Id(3)]
    public int Confirmations { get; set; }

    [Id(4)]
    public string? BlockHash { get; set; }

    [Id(5)]
    public long? BlockHeight { get; set; }

    /// <summary>The network fee this transaction paid, in the native coin's units (known once mined).</summary>
    [Id(6)]
    public BigInteger? FeeUnits { get; set; }

    /// <summary>UTXO: the node's <c>gettxoutproof</c>; EVM: the transaction's index in its block.</summary>
    [Id(7)]
    public string? InclusionProof { get; set; }
}

[GenerateSerializer]
[Alias("cryptopay.settlement-state")]
public sealed record SettlementState
{
    [Id(0)]
    public Guid Id { get; set; }

    [Id(1)]
    public string Network { get; set; } = "";

    [Id(2)]
    public long Sequence { get; set; }

    [Id(3)]
    public SettlementStatus Status { get; set; }

    /// <summary>The queued withdrawals the batch was opened with; those claimed become <see cref="Entries"/>.</summary>
    [Id(4)]
    public List<Guid> Candidates { get; set; } = [];

    /// <summary>Ordered by withdrawal id, as the Merkle tree orders its leaves.</summary>
    [Id(5)]
    public List<SettlementEntry> Entries { get; set; } = [];

    /// <summary>The Merkle root over the entries (lower-case hex), committed on chain.</summary>
    [Id(6)]
    public string? MerkleRoot { get; set; }

    [Id(7)]
    public List<SettlementTransaction> Transactions { get; set; } = [];

    /// <summary>The network fee the wallet expected when signing (native units).</summary>
    [Id(8)]
    public BigInteger EstimatedFeeUnits { get; set; }

    /// <summary>Why the batch failed, or the last reason it could not move on (a short hot wallet) while it waits.</summary>
    [Id(9)]
    public string? Reason { get; set; }

    [Id(10)]
    public DateTimeOffset CreatedAt { get; set; }

    [Id(11)]
    public DateTimeOffset UpdatedAt { get; set; }

    [Id(12)]
    public DateTimeOffset? BroadcastAt { get; set; }

    [Id(13)]
    public DateTimeOffset? FinalizedAt { get; set; }

    /// <summary>The network fee actually paid, booked to the operator once the batch is final: the movement, once.</summary>
    [Id(14)]
    public List<LedgerMovement> Movements { get; set; } = [];

    /// <summary>The confirmations every transaction needs before the batch is final.</summary>
    [Id(15)]
    public int RequiredConfirmations { get; set; }

    public bool Exists => Status != SettlementStatus.Empty && Candidates.Count > 0;

    /// <summary>The network fee paid by every transaction, once all are mined.</summary>
    public BigInteger NetworkFeeUnits => Transactions.Aggregate(BigInteger.Zero, (sum, t) => sum + (t.FeeUnits ?? BigInteger.Zero));

    /// <summary>The transaction carrying the Merkle root: UTXO the only one, EVM the first.</summary>
    public SettlementTransaction? CommitmentTransaction => Transactions.FirstOrDefault(t => t.WithdrawalId is null);

    /// <summary>The transaction that pays <paramref name="withdrawalId"/>.</summary>
    public SettlementTransaction? TransactionOf(Guid withdrawalId) =>
        Transactions.FirstOrDefault(t => t.WithdrawalId == withdrawalId) ?? (Transactions.Count == 1 ? Transactions[0] : null);
}

/// <summary>The settlement batch the operator cannot move as asked (fail after broadcast, an unknown batch).</summary>
[GenerateSerializer]
[Alias("cryptopay.invalid-settlement-transition")]
public sealed class InvalidSettlementTransitionException(string message) : Exception(message);

public static class SettlementIds
{
    /// <summary>The batch of <paramref name="network"/> numbered <paramref name="sequence"/>: the same id on every silo and after any restart.</summary>
    public static Guid For(string network, long sequence) => DerivedIds.Uuid($"settlement\n{network}\n{sequence}");

    /// <summary>The batch in ledger movements: <c>settlement:{id}</c>.</summary>
    public static string Key(Guid id) => $"settlement:{id:N}";
}
