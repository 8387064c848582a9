using System.Globalization;
using System.Text.Json;
using CryptoPay.Chains.Payouts;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.PaymentLinks;
using CryptoPay.Grains.Settlements;
using CryptoPay.Grains.Withdrawals;

namespace CryptoPay.Api.Compatibility.Ippan;

/// <summary>A payment (one of our invoices): the document's fields, then what a client needs to have it paid.</summary>
public sealed record IppanPayment(
    string Id, string Object, decimal Amount, string Currency, string Status, string MerchantId, string? ProofUrl, string CreatedAt,
    string? Description, JsonElement? Metadata, decimal AmountPaid, string HostedUrl, string ExpiresAt);

public sealed record IppanLineItem(string Description, decimal Amount, decimal Quantity);

/// <summary>An invoice (one of our invoices): the document's fields, then its items and what was paid.</summary>
public sealed record IppanInvoice(
    string Id, string Object, string Status, decimal Total, string Currency, string HostedUrl, string DueDate, string CreatedAt,
    string? CustomerEmail, string? Description, IReadOnlyList<IppanLineItem> LineItems, JsonElement? Metadata, decimal AmountPaid, string ExpiresAt);

public sealed record IppanList<T>(string Object, IReadOnlyList<T> Data, bool HasMore);

public sealed record IppanPaymentLink(
    string Id, string Object, string Url, decimal Amount, string Currency, bool Reusable, string? ExpiresAt, string CreatedAt,
    string? Description, int? MaxUses, int Uses, bool Active);

public sealed record IppanBeneficiary(string Id, string Object, string Network, string Address, string? Label, string CreatedAt);

public sealed record IppanPayout(
    string Id, string Object, decimal Amount, string Currency, string Status, string? BeneficiaryId, string ProofUrl, string CreatedAt,
    string Network, decimal Fee, string? Reference, JsonElement? Metadata, string? SettlementId, string? Txid, string? FailureReason);

public sealed record IppanSettlement(
    string Id, string Object, string Status, decimal? Total, string? Currency, IReadOnlyList<string> PaymentIds, string? ProofHash,
    string? FinalizedAt, string CreatedAt, IReadOnlyDictionary<string, decimal> Totals, IReadOnlyList<string> PayoutIds, string Network, string? Txid);

public sealed record IppanProof(
    string Id, string Object, string Type, string SettlementId, string Hash, long BlockHeight, bool Verified, string VerificationUrl, string CreatedAt,
    string PayoutId, string Network, string Txid, string BlockHash, int Confirmations);

/// <summary>Our objects in ippan.txt's words: ids, minor units, status names, timestamps. No rule lives here.</summary>
public static class IppanObjects
{
    /// <summary>The document's timestamps: RFC 3339 UTC with a Z and whole seconds (2026-03-28T14:22:07Z).</summary>
    public static string Time(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>
    /// A payment's status. pending: waiting; processing: paid, waiting for confirmations; succeeded: confirmed and credited;
    /// underpaid: expired with less than the amount paid; expired; cancelled; archived: imported history.
    /// </summary>
    public static string PaymentStatus(InvoiceStatus status) => status switch
    {
        InvoiceStatus.Pending => "pending",
        InvoiceStatus.Confirming => "processing",
        InvoiceStatus.Confirmed => "succeeded",
        InvoiceStatus.PaidPartial => "underpaid",
        InvoiceStatus.Expired => "expired",
        InvoiceStatus.Cancelled => "cancelled",
        _ => "archived",
    };

    /// <summary>An invoice's status, Stripe-like: open until paid (payment seen or not), paid, void (cancelled), uncollectible (past its date, unpaid or underpaid).</summary>
    public static string InvoiceStatusName(InvoiceStatus status) => status switch
    {
        InvoiceStatus.Pending or InvoiceStatus.Confirming => "open",
        InvoiceStatus.Confirmed => "paid",
        InvoiceStatus.Cancelled => "void",
        InvoiceStatus.PaidPartial or InvoiceStatus.Expired => "uncollectible",
        _ => "archived",
    };

    /// <summary>
    /// A payout's status: pending (held for an operator's review), processing (queued or in a settlement batch on its way),
    /// finalized (paid, its proof available), failed, rejected, cancelled.
    /// </summary>
    public static string PayoutStatus(WithdrawalStatus status) => status switch
    {
        WithdrawalStatus.Review or WithdrawalStatus.Reserving => "pending",
        WithdrawalStatus.Queued or WithdrawalStatus.Processing => "processing",
        WithdrawalStatus.Completed => "finalized",
        WithdrawalStatus.Rejected => "rejected",
        WithdrawalStatus.Cancelled => "cancelled",
        _ => "failed",
    };

    /// <summary>The last day an invoice can be paid: the UTC date of its expiry (less a second, so an expiry at midnight is the day before's).</summary>
    public static string DueDate(DateTimeOffset expiresAt) =>
        expiresAt.ToUniversalTime().AddSeconds(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static IppanPayment ToPayment(this InvoiceState invoice, string hostedUrl)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        var spec = invoice.Spec;
        var exponent = Exponent(spec.Currency);
        return new IppanPayment(
            IppanIds.Of(IppanIds.Payment, invoice.Id), "payment", IppanAmounts.ToMinor(spec.Amount, exponent), spec.Currency,
            PaymentStatus(invoice.Status), IppanIds.Of(IppanIds.Merchant, spec.MerchantId), null, Time(spec.CreatedAt),
            spec.Description, Metadata(spec.MetadataJson), IppanAmounts.ToMinor(invoice.PaidAmountInCurrency, exponent), hostedUrl, Time(spec.ExpiresAt));
    }

    public static IppanInvoice ToInvoice(this InvoiceState invoice, string hostedUrl)
    {
        ArgumentNullException.ThrowIfNull(invoice);
        var spec = invoice.Spec;
        var exponent = Exponent(spec.Currency);
        return new IppanInvoice(
            IppanIds.Of(IppanIds.Invoice, invoice.Id), "invoice", InvoiceStatusName(invoice.Status), IppanAmounts.ToMinor(spec.Amount, exponent), spec.Currency,
            hostedUrl, DueDate(spec.ExpiresAt), Time(spec.CreatedAt), spec.CustomerEmail, spec.Description,
            [.. spec.LineItems.Select(l => new IppanLineItem(l.Description, IppanAmounts.ToMinor(l.Amount, exponent), l.Quantity))],
            Metadata(spec.MetadataJson), IppanAmounts.ToMinor(invoice.PaidAmountInCurrency, exponent), Time(spec.ExpiresAt));
    }

    public static IppanPaymentLink ToPaymentLink(this PaymentLink link, string url)
    {
        ArgumentNullException.ThrowIfNull(link);
        var spec = link.Spec;
        return new IppanPaymentLink(
            IppanIds.Of(IppanIds.PaymentLink, link.Id), "payment_link", url, IppanAmounts.ToMinor(spec.Amount, Exponent(spec.Currency)), spec.Currency,
            spec.Reusable, spec.ExpiresAt is { } expires ? Time(expires) : null, Time(link.CreatedAt), spec.Description, link.UseLimit, link.Uses, link.Active);
    }

    public static IppanBeneficiary ToBeneficiary(this Beneficiary beneficiary)
    {
        ArgumentNullException.ThrowIfNull(beneficiary);
        return new IppanBeneficiary(IppanIds.Of(IppanIds.Beneficiary, beneficiary.Id), "beneficiary", beneficiary.Network, beneficiary.Address, beneficiary.Label, Time(beneficiary.CreatedAt));
    }

    public static IppanPayout ToPayout(this WithdrawalState withdrawal, string proofUrl)
    {
        ArgumentNullException.ThrowIfNull(withdrawal);
        var spec = withdrawal.Spec!;
        var exponent = Exponent(spec.AssetCode);
        return new IppanPayout(
            IppanIds.Of(IppanIds.Payout, spec.Id), "payout", IppanAmounts.ToMinor(spec.AmountUnits, spec.Decimals, exponent), spec.AssetCode,
            PayoutStatus(withdrawal.Status), spec.BeneficiaryId is { } beneficiary ? IppanIds.Of(IppanIds.Beneficiary, beneficiary) : null, proofUrl,
            Time(spec.CreatedAt), spec.Network, IppanAmounts.ToMinor(spec.FeeUnits, spec.Decimals, exponent), spec.Reference, Metadata(spec.MetadataJson),
            Guid.TryParse(withdrawal.SettlementId, out var settlement) ? IppanIds.Of(IppanIds.Settlement, settlement) : null, withdrawal.Txid, withdrawal.Reason);
    }

    /// <summary>
    /// The batch as the caller's merchant sees it: its own payouts, their total per currency (<c>total</c> and
    /// <c>currency</c> when they are all in one), and the payments (invoices) whose deposits they paid out.
    /// </summary>
    public static IppanSettlement ToSettlement(this SettlementState settlement, Guid merchantId, IReadOnlyList<Guid> invoiceIds)
    {
        ArgumentNullException.ThrowIfNull(settlement);
        var entries = settlement.Entries.Where(e => e.MerchantId == merchantId).ToList();
        var totals = entries.GroupBy(e => e.AssetCode, StringComparer.Ordinal).ToDictionary(
            g => g.Key, g => g.Sum(e => IppanAmounts.ToMinor(e.AmountUnits, e.Decimals, Exponent(e.AssetCode))), StringComparer.Ordinal);
        var single = totals.Count == 1 ? totals.Single() : (KeyValuePair<string, decimal>?)null;
        return new IppanSettlement(
            IppanIds.Of(IppanIds.Settlement, settlement.Id), "settlement", SettlementProjection.Name(settlement.Status), single?.Value, single?.Key,
            [.. invoiceIds.Select(id => IppanIds.Of(IppanIds.Payment, id))], Hash(settlement.MerkleRoot),
            settlement.FinalizedAt is { } finalized ? Time(finalized) : null, Time(settlement.CreatedAt), totals,
            [.. entries.Select(e => IppanIds.Of(IppanIds.Payout, e.WithdrawalId))], settlement.Network,
            settlement.CommitmentTransaction?.Txid ?? settlement.Transactions.FirstOrDefault()?.Txid);
    }

    /// <summary>
    /// A payout's proof: its entry is in the batch whose Merkle root (<c>hash</c>, the settlement's proof_hash) is
    /// committed on chain. verified: the branch leads to the root and the batch is final; verification_url: everything a
    /// third party needs to check it with its own node (GET /v1/proofs/{id}, docs/PROOFS.md).
    /// </summary>
    public static IppanProof ToProof(this PayoutProof proof, string verificationUrl)
    {
        ArgumentNullException.ThrowIfNull(proof);
        var settlement = proof.Settlement;
        return new IppanProof(
            IppanIds.Of(IppanIds.Proof, proof.Entry.WithdrawalId), "proof", "settlement", IppanIds.Of(IppanIds.Settlement, settlement.Id),
            Hash(Convert.ToHexStringLower(proof.Root))!, proof.Payment.BlockHeight!.Value,
            settlement.Status == SettlementStatus.Finalized && PayoutMerkleTree.Verify(proof.Leaf, proof.Branch, proof.Root),
            verificationUrl, Time(settlement.FinalizedAt ?? settlement.UpdatedAt), IppanIds.Of(IppanIds.Payout, proof.Entry.WithdrawalId),
            settlement.Network, proof.Payment.Txid, proof.Payment.BlockHash!, proof.Payment.Confirmations);
    }

    private static int Exponent(string currency) => IppanAmounts.Exponent(currency) ?? Assets.FindCurrency(currency)?.Decimals ?? 8;

    private static string? Hash(string? hex) => hex is null ? null : "0x" + hex;

    private static JsonElement? Metadata(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();
}
