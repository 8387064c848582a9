using System.Numerics;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Merchants;

namespace CryptoPay.Grains.Invoices;

public enum InvoiceStatus
{
    Pending,
    Confirming,
    Confirmed,
    PaidPartial,
    Expired,
    Cancelled,
    Archived,
}

public enum InvoiceException
{
    Underpaid,
    Overpaid,
    PaidLate,
    Marked,
    Reorged,
}

public enum PaymentStatus
{
    Detected,
    Confirmed,
}

public sealed record LineItem(string Description, decimal Amount, decimal Quantity);

/// <summary>One on-chain output paying the invoice; (txid, output index) identifies it on any chain.</summary>
public sealed record Payment
{
    public string Txid { get; set; } = "";

    public int OutputIndex { get; set; }

    public BigInteger AmountUnits { get; set; }

    public int Confirmations { get; set; }

    public PaymentStatus Status { get; set; }

    public DateTimeOffset DetectedAt { get; set; }

    /// <summary>True while the merchant's balance holds this output: it stays credited until a reorganisation takes its confirmations away.</summary>
    public bool Credited { get; set; }
}

/// <summary>A way to pay the invoice: asset on a network, address, the price in that asset and the rate locked at creation.</summary>
public sealed record InvoicePaymentMethod
{
    public string Method { get; set; } = "";

    public string Network { get; set; } = "";

    public string Asset { get; set; } = "";

    public int Decimals { get; set; }

    public string? Address { get; set; }

    public decimal Amount { get; set; }

    public BigInteger AmountUnits { get; set; }

    /// <summary>Price of one unit of the asset in the invoice currency, locked at creation.</summary>
    public decimal Rate { get; set; }

    public int RequiredConfirmations { get; set; }

    public List<Payment> Payments { get; set; } = [];

    public BigInteger PaidUnits => Payments.Aggregate(BigInteger.Zero, (sum, p) => sum + p.AmountUnits);

    public decimal PaidAmount => Amounts.FromUnits(PaidUnits, Decimals);

    public int ReceivedConfirmations => Payments.Count == 0 ? 0 : Payments.Min(p => p.Confirmations);
}

/// <summary>Everything an invoice is created with; prices and rates are computed before the turn (no I/O inside it).</summary>
public sealed record InvoiceSpec
{
    public Guid MerchantId { get; init; }

    public Mode Mode { get; init; }

    public decimal Amount { get; init; }

    public string Currency { get; init; } = "";

    public string? Description { get; init; }

    public string? OrderId { get; init; }

    public string? CustomerId { get; init; }

    public string? CustomerEmail { get; init; }

    public string? MetadataJson { get; init; }

    public List<LineItem> LineItems { get; init; } = [];

    public List<InvoicePaymentMethod> PaymentMethods { get; init; } = [];

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }

    public decimal AllowedErrorPercent { get; init; }

    public string? CallbackUrl { get; init; }

    public string? RedirectUrl { get; init; }

    public string ReportingCurrency { get; init; } = "USD";

    /// <summary>The amount in the merchant's reporting currency at the creation rate.</summary>
    public decimal AmountReporting { get; init; }

    /// <summary>A historical invoice imported as it was: archived, never watched.</summary>
    public bool Archived { get; init; }

    /// <summary>
    /// The fingerprint of the request that asked for the invoice under an Idempotency-Key (its id is derived from the
    /// key): a retry must ask for the same invoice, so a different request reaching the same id is refused.
    /// </summary>
    public string? RequestFingerprint { get; init; }
}

public sealed record InvoiceState
{
    public Guid Id { get; set; }

    public InvoiceSpec Spec { get; set; } = new();

    public InvoiceStatus Status { get; set; }

    public InvoiceException? Exception { get; set; }

    public string? Comment { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? PaidAt { get; set; }

    public DateTimeOffset? ConfirmedAt { get; set; }

    public List<InvoicePaymentMethod> PaymentMethods { get; set; } = [];

    /// <summary>Changes with every visible change; the public status endpoint uses it as its ETag.</summary>
    public long Revision { get; set; }

    public bool Exists => Id != Guid.Empty;

    public bool HasPayments => PaymentMethods.Exists(m => m.Payments.Count > 0);

    /// <summary>
    /// The invoice as it stands at <paramref name="now"/>: a pending invoice past its expiry reads as expired (paid
    /// partially when it has payments) even before its expiry reminder has run, with the revision that change will have.
    /// </summary>
    public InvoiceState AsOf(DateTimeOffset now) =>
        IsPastExpiry(Status, Spec.ExpiresAt, now) ? Expired(this with { }) : this;

    /// <summary>True when a pending invoice's expiry has come: the one condition the reminder's change and readers share.</summary>
    public static bool IsPastExpiry(InvoiceStatus status, DateTimeOffset expiresAt, DateTimeOffset now) =>
        status == InvoiceStatus.Pending && now >= expiresAt;

    /// <summary>What expiry makes of a pending invoice: paid partially (underpaid) with payments, else expired.</summary>
    public static InvoiceStatus StatusAfterExpiry(bool hasPayments) => hasPayments ? InvoiceStatus.PaidPartial : InvoiceStatus.Expired;

    /// <summary>Moves a pending invoice to what its expiry makes of it; the reminder and <see cref="AsOf"/> both use it.</summary>
    public static InvoiceState Expired(InvoiceState invoice)
    {
        invoice.Status = StatusAfterExpiry(invoice.HasPayments);
        if (invoice.HasPayments)
        {
            invoice.Exception = InvoiceException.Underpaid;
        }

        invoice.UpdatedAt = invoice.Spec.ExpiresAt;
        invoice.Revision++;
        return invoice;
    }

    /// <summary>What was paid, in the invoice currency at the locked rates.</summary>
    public decimal PaidAmountInCurrency =>
        PaymentMethods.Sum(m => m.PaidAmount * m.Rate);
}

/// <summary>What a status poll shows of an invoice; <see cref="Revision"/> changes with every change of the invoice.</summary>
public sealed record InvoiceStatusView(Guid Id, InvoiceStatus Status, DateTimeOffset ExpiresAt, long Revision, bool HasPayments = false)
{
    public static InvoiceStatusView Of(InvoiceState invoice) =>
        new(invoice.Id, invoice.Status, invoice.Spec.ExpiresAt, invoice.Revision, invoice.HasPayments);

    /// <summary>The view at <paramref name="now"/>, by the rule of <see cref="InvoiceState.AsOf"/> (views are shared, so this copies).</summary>
    public InvoiceStatusView AsOf(DateTimeOffset now) =>
        InvoiceState.IsPastExpiry(Status, ExpiresAt, now)
            ? this with { Status = InvoiceState.StatusAfterExpiry(HasPayments), Revision = Revision + 1 }
            : this;
}
