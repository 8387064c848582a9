using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CryptoPay.Api.Compatibility.InvoiceApi;

/// <summary>
/// An invoice as crypto-invoice-api.txt shows it. Amounts are JSON numbers written from exact decimals, smallest units
/// integers; <see cref="BlockchainDetails"/> is <c>{}</c> for an archived invoice.
/// </summary>
public sealed record InvoiceApiInvoice(
    Guid InvoiceId, Guid UserId, Guid? ProjectId, string? OrderId, decimal? FiatAmount, string? FiatCurrency, string? Currency,
    decimal? CryptoAmount, BigInteger? CryptoAmountInUnits, decimal ActualCryptoAmountPaid, BigInteger ActualCryptoAmountPaidInUnits,
    decimal AllowedErrorPercent, string? OrderName, long ExpireMin, string? CallbackUrl, string Status, string? Comment,
    string CreatedAt, string UpdatedAt, string ExpiresAt, object BlockchainDetails, string CheckoutUrl);

/// <summary>Where and how the invoice is paid: the payment method shown, its address, confirmations and transactions.</summary>
public sealed record InvoiceApiBlockchainDetails(
    string Method, string Network, string Asset, int Decimals, string? Address, string? PaymentUri, int ConfirmationsRequired,
    int Confirmations, IReadOnlyList<InvoiceApiTransaction> Transactions);

public sealed record InvoiceApiTransaction(string Txid, int OutputIndex, decimal Amount, BigInteger AmountInUnits, int Confirmations, string Status);

public sealed record InvoiceApiPagination(int Page, int PageSize, long Total, bool HasMore);

public sealed record InvoiceApiList(IReadOnlyList<InvoiceApiInvoice> Items, InvoiceApiPagination Pagination);

/// <summary>A cryptocurrency <c>currency</c> takes: its decimals and the payment methods (asset on a network) this gateway offers for it.</summary>
public sealed record InvoiceApiCurrency(string Code, int Decimals, IReadOnlyList<string> PaymentMethods);

public sealed record InvoiceApiCurrencies(IReadOnlyList<InvoiceApiCurrency> Currencies);

public sealed record InvoiceApiRates(string Base, IReadOnlyDictionary<string, decimal> Rates, string UpdatedAt);

public sealed record InvoiceApiSimulated(string Status, string Message);

public sealed record InvoiceApiProject(Guid ProjectId, string ApiKey);

public sealed record InvoiceApiError(string Error, string Code);

/// <summary>The profile's JSON: the profiles' snake_case, decimals without trailing zeros, integers of any size as numbers.</summary>
public static class InvoiceApiJson
{
    public static JsonSerializerOptions Options { get; } = new(ProfileJson.Options) { Converters = { new ExactDecimalConverter(), new BigIntegerConverter() } };

    /// <summary>RFC 3339 in UTC as the document shows it (<c>2019-08-24T14:15:22Z</c>), fractions only when there are some.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private sealed class ExactDecimalConverter : JsonConverter<decimal>
    {
        public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDecimal();

        // Dividing by 1.000…0 drops trailing zeros (100.00 → 100) without changing the value.
        public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) =>
            writer.WriteNumberValue(value / 1.000000000000000000000000000000000m);
    }

    private sealed class BigIntegerConverter : JsonConverter<BigInteger>
    {
        public override BigInteger Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            BigInteger.Parse(System.Text.Encoding.UTF8.GetString(reader.ValueSpan), CultureInfo.InvariantCulture);

        public override void Write(Utf8JsonWriter writer, BigInteger value, JsonSerializerOptions options) =>
            writer.WriteRawValue(value.ToString(CultureInfo.InvariantCulture), skipInputValidation: true);
    }
}
