using CryptoPay.Grains.Invoices;

namespace CryptoPay.Grains.Ledger;

/// <summary>
/// The outputs of an invoice that its merchant's balance holds: every confirmed payment once the
/// invoice is settled (confirmed, paid_partial, or paid after expiry or cancellation). Taken before a turn and compared after it, it
/// yields exactly the credits that turn must send.
/// </summary>
public sealed class InvoiceCredits
{
    private readonly Dictionary<string, DepositCredit> outputs;
    private readonly Dictionary<string, DepositCredit> pending;

    private InvoiceCredits(Dictionary<string, DepositCredit> outputs, Dictionary<string, DepositCredit> pending)
    {
        this.outputs = outputs;
        this.pending = pending;
    }

    public static InvoiceCredits Of(InvoiceState invoice)
    {
        var credited = Credited(invoice).ToDictionary(c => c.OutputKey, StringComparer.Ordinal);
        return new(credited, Pending(invoice, credited).ToDictionary(c => c.OutputKey, StringComparer.Ordinal));
    }

    /// <summary>What the balance must do to follow the invoice from when this was taken to <paramref name="invoice"/> now.</summary>
    public InvoiceCreditChanges Since(InvoiceState invoice)
    {
        var credited = Credited(invoice).ToDictionary(c => c.OutputKey, StringComparer.Ordinal);
        var paid = invoice.PaymentMethods.SelectMany(m => m.Payments.Select(p => LedgerKeys.Output(m.Network, p.Txid, p.OutputIndex))).ToHashSet(StringComparer.Ordinal);
        return new InvoiceCreditChanges(
            Credits: [.. credited.Values.Where(c => !outputs.ContainsKey(c.OutputKey))],
            Lost: [.. outputs.Values.Where(c => !credited.ContainsKey(c.OutputKey))],
            NewlyPending: [.. Pending(invoice, credited).Where(c => !pending.ContainsKey(c.OutputKey))],
            Dropped: [.. pending.Values.Where(c => !paid.Contains(c.OutputKey))],
            CreditedOutputs: credited.Keys.ToHashSet(StringComparer.Ordinal));
    }

    private static bool Settled(InvoiceStatus status) =>
        status is InvoiceStatus.Confirmed or InvoiceStatus.PaidPartial or InvoiceStatus.Expired or InvoiceStatus.Cancelled;

    /// <summary>Outputs now paid to the invoice but not credited, that were not pending when this was taken: shown as the merchant's pending balance.</summary>
    public IReadOnlyList<DepositCredit> PendingSince(InvoiceState invoice) =>
        [.. Pending(invoice, Credited(invoice).ToDictionary(c => c.OutputKey, StringComparer.Ordinal)).Where(c => !pending.ContainsKey(c.OutputKey))];

    /// <summary>Outputs that were pending when this was taken and are now gone from the invoice without being credited.</summary>
    public IReadOnlyList<DepositCredit> PendingDropped(InvoiceState invoice)
    {
        var paid = invoice.PaymentMethods.SelectMany(m => m.Payments.Select(p => LedgerKeys.Output(m.Network, p.Txid, p.OutputIndex))).ToHashSet(StringComparer.Ordinal);
        return [.. pending.Values.Where(c => !paid.Contains(c.OutputKey))];
    }

    private static IEnumerable<DepositCredit> Pending(InvoiceState invoice, Dictionary<string, DepositCredit> credited) =>
        invoice.Status == InvoiceStatus.Archived
            ? []
            : invoice.PaymentMethods.SelectMany(m => m.Payments
                .Select(p => new DepositCredit(invoice.Spec.MerchantId, invoice.Spec.Mode, m.Network, m.Asset, p.Txid, p.OutputIndex, p.AmountUnits, invoice.Id))
                .Where(c => !credited.ContainsKey(c.OutputKey)));

    /// <summary>
    /// Confirmed payments of an invoice that is settled (confirmed, or closed without reaching its price: paid_partial,
    /// payments after expiry or cancellation), and confirmed payments credited already (a paid_partial invoice whose
    /// late remainder sends it back to confirming keeps what it credited). Money that reached the merchant's address is
    /// never left out of the balance; only an invoice still waiting (pending, confirming) holds new payments back.
    /// </summary>
    private static IEnumerable<DepositCredit> Credited(InvoiceState invoice) =>
        invoice.Status == InvoiceStatus.Archived
            ? []
            : invoice.PaymentMethods.SelectMany(m => m.Payments
                .Where(p => p.Status == PaymentStatus.Confirmed && (p.Credited || Settled(invoice.Status)))
                .Select(p => new DepositCredit(invoice.Spec.MerchantId, invoice.Spec.Mode, m.Network, m.Asset, p.Txid, p.OutputIndex, p.AmountUnits, invoice.Id)));
}

/// <summary>
/// One turn's effect on the merchant's balance: outputs to credit, credits lost to a reorganisation (each needs a
/// compensating reversal), outputs newly shown as pending, and pending outputs that left the chain uncredited.
/// </summary>
public sealed record InvoiceCreditChanges(
    IReadOnlyList<DepositCredit> Credits,
    IReadOnlyList<DepositCredit> Lost,
    IReadOnlyList<DepositCredit> NewlyPending,
    IReadOnlyList<DepositCredit> Dropped,
    IReadOnlySet<string> CreditedOutputs)
{
    /// <summary>Marks on the invoice's payments which outputs its merchant's balance holds after this turn.</summary>
    public void MarkCredited(InvoiceState invoice)
    {
        foreach (var method in invoice.PaymentMethods)
        {
            foreach (var payment in method.Payments)
            {
                payment.Credited = CreditedOutputs.Contains(LedgerKeys.Output(method.Network, payment.Txid, payment.OutputIndex));
            }
        }
    }
}
