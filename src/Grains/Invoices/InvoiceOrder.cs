using CryptoPay.Grains.Catalog;

namespace CryptoPay.Grains.Invoices;

/// <summary>
/// What a merchant asks for when creating (or importing) an invoice, after the API checked its shape: every rule that
/// needs no rates, no merchant settings and no configured networks holds. <see cref="InvoiceCreation"/> does the rest.
/// </summary>
public sealed record InvoiceOrder
{
    public const decimal MaxUsdAmount = 1_000_000m;
    public static readonly TimeSpan DefaultExpiry = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan MinExpiry = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan MaxExpiry = TimeSpan.FromDays(7);

    public decimal Amount { get; init; }

    public CurrencyInfo Currency { get; init; } = null!;

    public string? Network { get; init; }

    public IReadOnlyList<string>? PaymentMethods { get; init; }

    public string? OrderId { get; init; }

    public string? Description { get; init; }

    public string? CustomerId { get; init; }

    public string? CustomerEmail { get; init; }

    public string? MetadataJson { get; init; }

    public List<LineItem> LineItems { get; init; } = [];

    public TimeSpan ExpiresIn { get; init; }

    public decimal AllowedErrorPercent { get; init; }

    public string? CallbackUrl { get; init; }

    public string? RedirectUrl { get; init; }

    /// <summary>When an archived (imported) invoice was created; null for a new invoice.</summary>
    public DateTimeOffset? CreatedAt { get; init; }

    /// <summary>The webhook format of deliveries to <see cref="CallbackUrl"/>: the profile the invoice was created through; null is ours.</summary>
    public string? WebhookFormat { get; init; }
}
