using System.Globalization;
using System.Text.Json;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Invoices;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CryptoPay.Api.Invoices;

public sealed record ConfirmationsResponse(int Received, int Required);

public sealed record PaymentResponse(string Txid, int OutputIndex, string Amount, string AmountUnits, int Confirmations, string Status);

public sealed record PaymentMethodResponse(
    string Method, string Network, string Asset, string? Address, string Amount, string AmountUnits, string Rate,
    string PaidAmount, string PaidAmountUnits, ConfirmationsResponse Confirmations, IReadOnlyList<PaymentResponse> Payments, string? PaymentUri);

public sealed record LineItemResponse(string Description, string Amount, string Quantity);

public sealed record InvoiceResponse(
    Guid Id, string Mode, string Status, string? Exception, string Amount, string Currency, string? Description, string? OrderId,
    string? CustomerId, string? CustomerEmail, JsonElement? Metadata, IReadOnlyList<LineItemResponse> LineItems,
    IReadOnlyList<PaymentMethodResponse> PaymentMethods, string PaidAmountFiat, string AllowedErrorPercent, string? Comment,
    string? CallbackUrl, string? RedirectUrl, string CheckoutUrl, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    DateTimeOffset ExpiresAt, long ExpiresAtTs, DateTimeOffset? PaidAt, DateTimeOffset? ConfirmedAt);

public sealed record InvoiceStatusResponse(Guid Id, string Status, long ExpiresAtTs);

public static class InvoiceMapping
{
    /// <summary>The payment-URI builder of the request's services.</summary>
    public static PaymentUris PaymentUris(this HttpContext context) => context.RequestServices.GetRequiredService<PaymentUris>();

    /// <summary>An invoice's hosted checkout page under <paramref name="checkoutBase"/>.</summary>
    public static string CheckoutUrl(string checkoutBase, Guid invoiceId) => $"{checkoutBase.TrimEnd('/')}/pay/{invoiceId}";

    /// <summary>Stored metadata as the merchant gave it; null when none was given.</summary>
    public static JsonElement? Metadata(string? json) => json is null ? null : JsonDocument.Parse(json).RootElement.Clone();

    public static InvoiceResponse ToResponse(this InvoiceState invoice, string checkoutBase, PaymentUris uris)
    {
        ArgumentNullException.ThrowIfNull(uris);
        var spec = invoice.Spec;
        var decimals = Assets.FindCurrency(spec.Currency)?.Decimals ?? 8;
        return new InvoiceResponse(
            invoice.Id,
            InvoiceProjection.Name(spec.Mode),
            InvoiceProjection.Name(invoice.Status),
            invoice.Exception is { } exception ? InvoiceProjection.Name(exception) : null,
            Amounts.Format(spec.Amount, decimals),
            spec.Currency,
            spec.Description,
            spec.OrderId,
            spec.CustomerId,
            spec.CustomerEmail,
            Metadata(spec.MetadataJson),
            [.. spec.LineItems.Select(l => new LineItemResponse(l.Description, Amounts.Format(l.Amount, decimals), l.Quantity.ToString(CultureInfo.InvariantCulture)))],
            [.. invoice.PaymentMethods.Select(m => m.ToResponse(uris))],
            Amounts.Format(invoice.PaidAmountInCurrency, decimals),
            spec.AllowedErrorPercent.ToString(CultureInfo.InvariantCulture),
            invoice.Comment,
            spec.CallbackUrl,
            spec.RedirectUrl,
            CheckoutUrl(checkoutBase, invoice.Id),
            spec.CreatedAt,
            invoice.UpdatedAt,
            spec.ExpiresAt,
            spec.ExpiresAt.ToUnixTimeSeconds(),
            invoice.PaidAt,
            invoice.ConfirmedAt);
    }

    public static InvoiceStatusResponse ToStatus(this InvoiceStatusView invoice) =>
        new(invoice.Id, InvoiceProjection.Name(invoice.Status), invoice.ExpiresAt.ToUnixTimeSeconds());

    private static PaymentMethodResponse ToResponse(this InvoicePaymentMethod m, PaymentUris uris) => new(
        m.Method,
        m.Network,
        m.Asset,
        m.Address,
        Amounts.Format(m.Amount, m.Decimals),
        m.AmountUnits.ToString(CultureInfo.InvariantCulture),
        m.Rate.ToString(CultureInfo.InvariantCulture),
        Amounts.Format(m.PaidAmount, m.Decimals),
        m.PaidUnits.ToString(CultureInfo.InvariantCulture),
        new ConfirmationsResponse(m.ReceivedConfirmations, m.RequiredConfirmations),
        [.. m.Payments.Select(p => new PaymentResponse(p.Txid, p.OutputIndex, Amounts.Format(Amounts.FromUnits(p.AmountUnits, m.Decimals), m.Decimals), p.AmountUnits.ToString(CultureInfo.InvariantCulture), p.Confirmations, InvoiceProjection.Name(p.Status)))],
        uris.For(m));
}
