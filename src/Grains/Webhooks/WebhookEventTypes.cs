using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Storage;

namespace CryptoPay.Grains.Webhooks;

/// <summary>The invoice event types of API.md, and which of them a change of an invoice produces.</summary>
public static class WebhookEventTypes
{
    public const string InvoiceCreated = "invoice.created";
    public const string InvoicePaymentDetected = "invoice.payment_detected";
    public const string InvoicePartialPayment = "invoice.partial_payment";
    public const string InvoiceConfirming = "invoice.confirming";
    public const string InvoiceConfirmed = "invoice.confirmed";
    public const string InvoiceOverpaid = "invoice.overpaid";
    public const string InvoicePaidLate = "invoice.paid_late";
    public const string InvoiceExpired = "invoice.expired";
    public const string InvoiceCancelled = "invoice.cancelled";
    public const string InvoiceReorged = "invoice.reorged";

    public static IReadOnlyList<string> Invoice { get; } =
    [
        InvoiceCreated, InvoicePaymentDetected, InvoicePartialPayment, InvoiceConfirming, InvoiceConfirmed,
        InvoiceOverpaid, InvoicePaidLate, InvoiceExpired, InvoiceCancelled, InvoiceReorged,
    ];

    /// <summary>Every event type an endpoint may subscribe to: the invoice events, then the withdrawal and settlement events.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Invoice, .. WithdrawalEventTypes.All, .. SettlementEventTypes.All];

    /// <summary>What an invoice looked like before a turn, to tell which events the turn caused.</summary>
    public sealed record InvoiceMark(bool Exists, InvoiceStatus Status, InvoiceException? Exception, int Payments)
    {
        public static InvoiceMark Of(InvoiceState invoice) =>
            new(invoice.Exists, invoice.Status, invoice.Exception, invoice.PaymentMethods.Sum(m => m.Payments.Count));
    }

    /// <summary>The events between two states of one invoice, in the order they happened within the turn.</summary>
    public static IReadOnlyList<string> Between(InvoiceMark before, InvoiceState after)
    {
        var now = InvoiceMark.Of(after);
        var events = new List<string>();
        if (!now.Exists || after.Status == InvoiceStatus.Archived)
        {
            return events;
        }

        if (!before.Exists)
        {
            events.Add(InvoiceCreated);
        }

        var newPayment = now.Payments > before.Payments;
        if (newPayment)
        {
            events.Add(InvoicePaymentDetected);
            if (now.Exception == InvoiceException.PaidLate)
            {
                events.Add(InvoicePaidLate);
            }
            else if (now.Status == InvoiceStatus.Pending)
            {
                events.Add(InvoicePartialPayment);
            }
        }

        if (now.Status != before.Status)
        {
            switch (now.Status)
            {
                case InvoiceStatus.Confirming:
                    events.Add(InvoiceConfirming);
                    break;
                case InvoiceStatus.Confirmed:
                    if (before.Status != InvoiceStatus.Confirming && newPayment)
                    {
                        events.Add(InvoiceConfirming);
                    }

                    events.Add(InvoiceConfirmed);
                    break;
                case InvoiceStatus.Expired or InvoiceStatus.PaidPartial when before.Status == InvoiceStatus.Pending && !newPayment:
                    events.Add(InvoiceExpired);
                    break;
                case InvoiceStatus.Cancelled:
                    events.Add(InvoiceCancelled);
                    break;
            }
        }

        if (now.Exception == InvoiceException.Overpaid && before.Exception != InvoiceException.Overpaid)
        {
            events.Add(InvoiceOverpaid);
        }

        var wentBack = (before.Status == InvoiceStatus.Confirmed && now.Status != InvoiceStatus.Confirmed) ||
            (before.Status == InvoiceStatus.Confirming && now.Status is InvoiceStatus.Pending or InvoiceStatus.PaidPartial or InvoiceStatus.Expired);
        if (now.Exception == InvoiceException.Reorged && (before.Exception != InvoiceException.Reorged || wentBack))
        {
            events.Add(InvoiceReorged);
        }

        return events;
    }

    /// <summary>
    /// The invoice as a test event of <paramref name="type"/> shows it: a copy in the status and exception such an event
    /// announces, so the test payload is self-consistent (an <c>invoice.expired</c> says <c>expired</c>); the invoice itself is unchanged.
    /// </summary>
    public static InvoiceState SampleFor(InvoiceState invoice, string type)
    {
        var (status, exception) = type switch
        {
            InvoiceCreated or InvoicePartialPayment => (InvoiceStatus.Pending, (InvoiceException?)null),
            InvoicePaymentDetected or InvoiceConfirming => (InvoiceStatus.Confirming, null),
            InvoiceConfirmed => (InvoiceStatus.Confirmed, null),
            InvoiceOverpaid => (InvoiceStatus.Confirmed, InvoiceException.Overpaid),
            InvoicePaidLate => (InvoiceStatus.Confirmed, InvoiceException.PaidLate),
            InvoiceExpired => (InvoiceStatus.Expired, null),
            InvoiceCancelled => (InvoiceStatus.Cancelled, null),
            InvoiceReorged => (InvoiceStatus.Pending, InvoiceException.Reorged),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not an invoice event type."),
        };
        var sample = StateJson.Clone(invoice);
        sample.Status = status;
        sample.Exception = exception;
        return sample;
    }

    /// <summary>The event type a test delivery uses for an invoice status named in <c>POST /v1/webhooks/test</c>.</summary>
    public static string? ForStatus(string status) => status switch
    {
        "pending" => InvoiceCreated,
        "confirming" => InvoiceConfirming,
        "confirmed" => InvoiceConfirmed,
        "paid_partial" => InvoicePartialPayment,
        "expired" => InvoiceExpired,
        "cancelled" => InvoiceCancelled,
        _ => Invoice.FirstOrDefault(t => t == "invoice." + status),
    };
}
