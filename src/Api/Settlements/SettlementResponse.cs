using System.ComponentModel;
using System.Numerics;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Settlements;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Api.Settlements;

/// <summary>One payout of a batch, as the operator sees it.</summary>
public sealed record SettlementEntryResponse(
    Guid WithdrawalId,
    Guid MerchantId,
    [property: Description("The balance it is paid from (LTC, USDT-ETH).")] string Asset,
    string Address,
    [property: Description("What the recipient gets.")] string Amount,
    [property: Description("The fee the merchant was charged for it.")] string Fee,
    [property: Description("The transaction that pays it.")] string? Txid);

/// <summary>One signed transaction of a batch.</summary>
public sealed record SettlementTransactionResponse(
    string Txid,
    [property: Description("The payout it carries; null for the transaction paying the whole batch (btc/ltc) or the commitment transaction (eth/bsc).")] Guid? WithdrawalId,
    int Confirmations,
    string? BlockHash,
    long? BlockHeight);

/// <summary>
/// A settlement batch. Merchants see their own payouts in it (<c>withdrawal_ids</c>, <c>total</c>); the operator's view
/// adds every entry and transaction.
/// </summary>
public sealed record SettlementResponse(
    Guid Id,
    [property: Description("open, broadcast, confirmed, finalized or failed.")] string Status,
    string Network,
    [property: Description("The amounts paid, per balance asset (LTC, USDT-ETH): the caller's payouts for a merchant, all for the operator.")] IReadOnlyDictionary<string, string> Total,
    IReadOnlyList<Guid> WithdrawalIds,
    [property: Description("The deposits (ledger output keys network:txid:index) the batch's automatic settlements pay out, in entry order: the caller's for a merchant, all for the operator.")] IReadOnlyList<string> PaymentIds,
    [property: Description("The transaction paying the batch (btc/ltc), or carrying its Merkle root (eth/bsc); null before signing.")] string? Txid,
    [property: Description("The network fee the batch's transactions paid, in the native coin; null until mined.")] string? Fee,
    [property: Description("The Merkle root over the batch's entries (hex), committed on chain; see GET /v1/proofs/{id}.")] string? ProofHash,
    int RequiredConfirmations,
    string? Reason,
    DateTimeOffset CreatedAt,
    DateTimeOffset? BroadcastAt,
    DateTimeOffset? FinalizedAt,
    [property: Description("Operator view only: every payout.")] IReadOnlyList<SettlementEntryResponse>? Entries = null,
    [property: Description("Operator view only: every signed transaction.")] IReadOnlyList<SettlementTransactionResponse>? Transactions = null);

public static class SettlementResponses
{
    /// <summary>The batch as <paramref name="merchantId"/> sees it (its payouts only), or the operator (null: everything).</summary>
    public static SettlementResponse ToResponse(this SettlementState settlement, Guid? merchantId)
    {
        ArgumentNullException.ThrowIfNull(settlement);
        var entries = settlement.Entries.Where(e => merchantId is null || e.MerchantId == merchantId).ToList();
        var total = entries.GroupBy(e => (e.Asset, e.Decimals))
            .ToDictionary(g => g.Key.Asset, g => LedgerKeys.FormatUnits(g.Aggregate(BigInteger.Zero, (s, e) => s + e.AmountUnits), g.Key.Decimals), StringComparer.Ordinal);
        var mined = settlement.Transactions.Count > 0 && settlement.Transactions.All(t => t.FeeUnits is not null);
        var native = Network.Get(settlement.Network);
        return new SettlementResponse(
            settlement.Id, SettlementProjection.Name(settlement.Status), settlement.Network, total, [.. entries.Select(e => e.WithdrawalId)], [.. entries.SelectMany(e => e.PaymentIds)],
            settlement.CommitmentTransaction?.Txid ?? settlement.Transactions.FirstOrDefault()?.Txid,
            mined ? LedgerKeys.FormatUnits(settlement.NetworkFeeUnits, native.NativeDecimals) : null,
            settlement.MerkleRoot, settlement.RequiredConfirmations, settlement.Reason, settlement.CreatedAt, settlement.BroadcastAt, settlement.FinalizedAt,
            merchantId is not null ? null : [.. entries.Select(e => new SettlementEntryResponse(
                e.WithdrawalId, e.MerchantId, e.Asset, e.Address, LedgerKeys.FormatUnits(e.AmountUnits, e.Decimals), LedgerKeys.FormatUnits(e.FeeUnits, e.Decimals),
                settlement.TransactionOf(e.WithdrawalId)?.Txid))],
            merchantId is not null ? null : [.. settlement.Transactions.Select(t => new SettlementTransactionResponse(t.Txid, t.WithdrawalId, t.Confirmations, t.BlockHash, t.BlockHeight))]);
    }
}
