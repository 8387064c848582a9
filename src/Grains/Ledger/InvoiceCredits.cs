using CryptoPay.Grains.Invoices;

namespace CryptoPay.Grains.Ledger;

/// <summary>
/// The outputs of an invoice that its merchant's balance holds: every confirmed payment once the
/// invoice is confirmed (paid_late ones included). Taken before a turn and compared after it, it
/// yields exactly the credits that turn must send.
/// </summary>
public sealed class InvoiceCredits
{
    private readonly HashSet<string> outputs;

    private InvoiceCredits(HashSet<string> outputs) => this.outputs = outputs;

    public static InvoiceCredits Of(InvoiceState invoice) => new([.. Credited(invoice).Select(c => c.OutputKey)]);

    /// <summary>Credits for outputs the invoice counts now and did not count when this was taken.</summary>
    public IReadOnlyList<DepositCredit> Since(InvoiceState invoice) => [.. Credited(invoice).Where(c => !outputs.Contains(c.OutputKey))];

    private static IEnumerable<DepositCredit> Credited(InvoiceState invoice) =>
        invoice.Status != InvoiceStatus.Confirmed
            ? []
            : invoice.PaymentMethods.SelectMany(m => m.Payments
                .Where(p => p.Status == PaymentStatus.Confirmed)
                .Select(p => new DepositCredit(invoice.Spec.MerchantId, invoice.Spec.Mode, m.Network, m.Asset, p.Txid, p.OutputIndex, p.AmountUnits, invoice.Id)));
}
