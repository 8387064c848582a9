using System.Numerics;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Merchants;
using Orleans;

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

[GenerateSerializer]
[Alias("cryptopay.line-item")]
public sealed record LineItem([property: Id(0)] string Description, [property: Id(1)] decimal Amount, [property: Id(2)] decimal Quantity);

/// <summary>One on-chain output paying the invoice; (txid, output index) identifies it on any chain.</summary>
[GenerateSerializer]
[Alias("cryptopay.payment")]
public sealed record Payment
{
    [Id(0)]
    public string Txid { get; set; } = "";

    [Id(1)]
    public int OutputIndex { get; set; }

    [Id(2)]
    public BigInteger AmountUnits { get; set; }

    [Id(3)]
    public int Confirmations { get; set; }

    [Id(4)]
    public PaymentStatus Status { get; set; }

    [Id(5)]
    public DateTimeOffset DetectedAt { get; set; }

    /// <summary>True while the merchant's balance holds this output: it stays credited until a reorganisation takes its confirmations away.</summary>
    [Id(6)]
    public bool Credited { get; set; }
}

/// <summary>A way to pay the invoice: asset on a network, address, the price in that asset and the rate locked at creation.</summary>
[GenerateSerializer]
[Alias("cryptopay.invoice-payment-method")]
public sealed record InvoicePaymentMethod
{
    [Id(0)]
    public string Method { get; set; } = "";

    [Id(1)]
    public string Network { get; set; } = "";

    [Id(2)]
    public string Asset { get; set; } = "";

    [Id(3)]
    public int Decimals { get; set; }

    [Id(4)]
    public string? Address { get; set; }

    [Id(5)]
    public decimal Amount { get; set; }

    [Id(6)]
    public BigInteger AmountUnits { get; set; }

    /// <summary>Price of one unit of the asset in the invoice currency, locked at creation.</summary>
    [Id(7)]
    public decimal Rate { get; set; }

    [Id(8)]
    public int RequiredConfirmations { get; set; }

    [Id(9)]
    public List<Payment> Payments { get; set; } = [];

    public BigInteger PaidUnits => Payments.Aggregate(BigInteger.Zero, (sum, p) => sum + p.AmountUnits);

    public decimal PaidAmount => Amounts.FromUnits(PaidUnits, Decimals);

    public int ReceivedConfirmations => Payments.Count == 0 ? 0 : Payments.Min(p => p.Confirmations);
}

/// <summary>Everything an invoice is created with; prices and rates are computed before the turn (no I/O inside it).</summary>
[GenerateSerializer]
[Alias("cryptopay.invoice-spec")]
public sealed record InvoiceSpec
{
    [Id(0)]
    public Guid MerchantId { get; init; }

    [Id(1)]
    public Mode Mode { get; init; }

    [Id(2)]
    public decimal Amount { get; init; }

    [Id(3)]
    public string Currency { get; init; } = "";

    [Id(4)]
    public string? Description { get; init; }

    [Id(5)]
    public string? OrderId { get; init; }

    [Id(6)]
    public string? CustomerId { get; init; }

    [Id(7)]
    public string? CustomerEmail { get; init; }

    [Id(8)]
    public string? MetadataJson { get; init; }

    [Id(9)]
    public List<LineItem> LineItems { get; init; } = [];

    [Id(10)]
    public List<InvoicePaymentMethod> PaymentMethods { get; init; } = [];

    [Id(11)]
    public DateTimeOffset CreatedAt { get; init; }

    [Id(12)]
    public DateTimeOffset ExpiresAt { get; init; }

    [Id(13)]
    public decimal AllowedErrorPercent { get; init; }

    [Id(14)]
    public string? CallbackUrl { get; init; }

    [Id(15)]
    public string? RedirectUrl { get; init; }

    [Id(16)]
    public string ReportingCurrency { get; init; } = "USD";

    /// <summary>The amount in the merchant's reporting currency at the creation rate.</summary>
    [Id(17)]
    public decimal AmountReporting { get; init; }

    /// <summary>A historical invoice imported as it was: archived, never watched.</summary>
    [Id(18)]
    public bool Archived { get; init; }

    /// <summary>
    /// The fingerprint of the request that asked for the invoice under an Idempotency-Key (its id is derived from the
    /// key): a retry must ask for the same invoice, so a different request reaching the same id is refused.
    /// </summary>
    [Id(19)]
    public string? RequestFingerprint { get; init; }

    /// <summary>The webhook format of deliveries to <see cref="CallbackUrl"/> (a compatibility profile's); null is ours.</summary>
    [Id(20)]
    public string? WebhookFormat { get; init; }
}

[GenerateSerializer]
[Alias("cryptopay.invoice-state")]
public sealed record InvoiceState
{
    [Id(0)]
    public Guid Id { get; set; }

    [Id(1)]
    public InvoiceSpec Spec { get; set; } = new();

    [Id(2)]
    public InvoiceStatus Status { get; set; }

    [Id(3)]
    public InvoiceException? Exception { get; set; }

    [Id(4)]
    public string? Comment { get; set; }

    [Id(5)]
    public DateTimeOffset UpdatedAt { get; set; }

    [Id(6)]
    public DateTimeOffset? PaidAt { get; set; }

    [Id(7)]
    public DateTimeOffset? ConfirmedAt { get; set; }

    [Id(8)]
    public List<InvoicePaymentMethod> PaymentMethods { get; set; } = [];

    /// <summary>Changes with every visible change; the public status endpoint uses it as its ETag.</summary>
    [Id(9)]
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

    /// <summary>What was paid, in the reporting currency at the creation rate, rounded as <see cref="InvoiceSpec.AmountReporting"/> is.</summary>
    public decimal PaidAmountReporting => Spec.Amount == 0
        ? 0
        : decimal.Round(PaidAmountInCurrency * Spec.AmountReporting / Spec.Amount, Assets.ReportingDecimals(Spec.ReportingCurrency), MidpointRounding.ToEven);
}

/// <summary>What a status poll shows of an invoice; <see cref="Revision"/> changes with every change of the invoice.</summary>
[GenerateSerializer]
[Alias("cryptopay.invoice-status-view")]
public sealed record InvoiceStatusView([property: Id(0)] Guid Id, [property: Id(1)] InvoiceStatus Status, [property: Id(2)] DateTimeOffset ExpiresAt, [property: Id(3)] long Revision, [property: Id(4)] bool HasPayments = false)
{
    public static InvoiceStatusView Of(InvoiceState invoice) =>
        new(invoice.Id, invoice.Status, invoice.Spec.ExpiresAt, invoice.Revision, invoice.HasPayments);

    /// <summary>The view at <paramref name="now"/>, by the rule of <see cref="InvoiceState.AsOf"/> (views are shared, so this copies).</summary>
    public InvoiceStatusView AsOf(DateTimeOffset now) =>
        InvoiceState.IsPastExpiry(Status, ExpiresAt, now)
            ? this with { Status = InvoiceState.StatusAfterExpiry(HasPayments), Revision = Revision + 1 }
            : this;
}
