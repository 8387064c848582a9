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

    /// <summary>Credits for outputs the invoice counts now and did not count when this was taken.</summary>
    public IReadOnlyList<DepositCredit> Since(InvoiceState invoice) => [.. Credited(invoice).Where(c => !outputs.ContainsKey(c.OutputKey))];

    /// <summary>Credits the invoice counted when this was taken and counts no more (a reorganisation): each needs a compensating reversal.</summary>
    public IReadOnlyList<DepositCredit> Lost(InvoiceState invoice)
    {
        var now = Credited(invoice).Select(c => c.OutputKey).ToHashSet(StringComparer.Ordinal);
        return [.. outputs.Values.Where(c => !now.Contains(c.OutputKey))];
    }

    /// <summary>Marks on the invoice's payments which outputs its merchant's balance holds after this turn.</summary>
    public static void Record(InvoiceState invoice)
    {
        var credited = Credited(invoice).Select(c => c.OutputKey).ToHashSet(StringComparer.Ordinal);
        foreach (var method in invoice.PaymentMethods)
        {
            foreach (var payment in method.Payments)
            {
                payment.Credited = credited.Contains(LedgerKeys.Output(method.Network, payment.Txid, payment.OutputIndex));
            }
        }
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
