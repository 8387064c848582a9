using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Json;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Invoices;

namespace CryptoPay.Api.Invoices;

/// <summary>Reads an invoice request into an <see cref="InvoiceOrder"/>, checked against every rule of API.md that needs no rates.</summary>
public static class InvoiceDraft
{
    public const decimal MaxUsdAmount = InvoiceOrder.MaxUsdAmount;
    public const int MaxDescription = 100;
    private static readonly TimeSpan DefaultExpiry = InvoiceOrder.DefaultExpiry;
    private static readonly TimeSpan MinExpiry = InvoiceOrder.MinExpiry;
    private static readonly TimeSpan MaxExpiry = InvoiceOrder.MaxExpiry;

    /// <summary>API.md's created_at forms; an RFC 3339 fraction is brought to the seven digits a timestamp holds first.</summary>
    private static readonly string[] DateFormats =
        ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.fffffffK", "yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss", "dd/MM/yyyy HH:mm:ss"];

    private static readonly Regex Fraction = new(@"(?<=T\d{2}:\d{2}:\d{2})\.(\d*)(?=Z|[+-]\d{2}:\d{2}|$)", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>Reads and checks the body; null with the errors recorded on <paramref name="body"/> when it breaks a rule.</summary>
    public static InvoiceOrder? Parse(JsonBody body, bool archived, DateTimeOffset now)
    {
        var amount = body.Decimal("amount", required: true, formatCode: ErrorCodes.InvalidAmountFormat);
        var currencyCode = body.String("currency", 10, required: true);
        var currency = Assets.FindCurrency(currencyCode);
        if (currencyCode is not null && currency is null)
        {
            body.Fail("currency", $"'{currencyCode}' is not supported; see GET /v1/currencies.", ErrorCodes.UnsupportedCurrency);
        }

        if (amount is { } a && currency is not null)
        {
            if (a <= 0)
            {
                body.Fail("amount", "must be greater than 0.", ErrorCodes.InvalidAmountRange);
            }
            else if (a > 1_000_000_000_000m)
            {
                body.Fail("amount", "is beyond any invoice this gateway accepts.", ErrorCodes.InvalidAmountRange);
            }
            else if (Amounts.Scale(a) > currency.Decimals)
            {
                body.Fail("amount", $"{currency.Code} has at most {currency.Decimals} decimals.", ErrorCodes.InvalidAmountFormat);
            }
        }

        var network = archived ? null : body.String("network", 20);
        if (network is not null && !Assets.NetworkIds.Contains(network, StringComparer.Ordinal))
        {
            body.Fail("network", $"'{network}' is not a network; known: {string.Join(", ", Assets.NetworkIds)}.", ErrorCodes.UnsupportedNetwork);
        }

        var methods = archived ? null : body.StringList("payment_methods", 20, 40);
        foreach (var method in methods ?? [])
        {
            if (Assets.FindMethod(method) is null)
            {
                body.Fail("payment_methods", $"'{method}' is not a payment method; see GET /v1/currencies.", ErrorCodes.UnsupportedNetwork);
            }
        }

        if (network is not null && methods is not null)
        {
            body.Fail("network", "give either network or payment_methods, not both.");
        }

        var orderId = body.String("order_id", 128);
        if (orderId is { Length: 0 })
        {
            body.Fail("order_id", "must not be empty.");
        }

        var description = body.Text("description", MaxDescription);
        var customerId = body.String("customer_id", 128);
        var email = body.String("customer_email", 254);
        if (email is not null && (email.IndexOf('@', StringComparison.Ordinal) is var at && (at <= 0 || at == email.Length - 1) || email.Any(char.IsWhiteSpace)))
        {
            body.Fail("customer_email", "must be an email address.");
        }

        string? metadata = null;
        if (body.Element("metadata", JsonValueKind.Object) is { } meta)
        {
            metadata = meta.GetRawText();
            if (meta.EnumerateObject().Count() > 50)
            {
                body.Fail("metadata", "must have at most 50 keys.");
            }
            else if (System.Text.Encoding.UTF8.GetByteCount(metadata) > 8 * 1024)
            {
                body.Fail("metadata", "must be at most 8 KiB serialised.");
            }
        }

        var lineItems = ParseLineItems(body, amount, currency);
        var expiresIn = DefaultExpiry;
        if (!archived)
        {
            var seconds = body.Integer("expires_in", (long)MinExpiry.TotalSeconds, (long)MaxExpiry.TotalSeconds);
            var minutes = body.Integer("expire_min", 1, (long)MaxExpiry.TotalMinutes);
            if (seconds is not null && minutes is not null)
            {
                body.Fail("expires_in", "give either expires_in or expire_min, not both.");
            }

            expiresIn = seconds is { } s ? TimeSpan.FromSeconds(s) : minutes is { } m ? TimeSpan.FromMinutes(m) : DefaultExpiry;
        }

        var allowedError = body.Decimal("allowed_error_percent") ?? 0m;
        if (allowedError is < 0 or > 100 || Amounts.Scale(allowedError) > 2)
        {
            body.Fail("allowed_error_percent", "must be between 0 and 100 with at most 2 decimals.");
        }

        var callback = Url(body, "callback_url");
        var redirect = Url(body, "redirect_url");
        DateTimeOffset? createdAt = null;
        if (archived)
        {
            var text = body.String("created_at", 40, required: true);
            if (text is not null)
            {
                if (ParseDate(text) is not { } parsed)
                {
                    body.Fail("created_at", "must be RFC 3339 (with 0 to 9 fraction digits), yyyy-MM-dd, yyyy-MM-dd HH:mm:ss or dd/MM/yyyy HH:mm:ss.");
                }
                else if (parsed >= now)
                {
                    body.Fail("created_at", "must be in the past.");
                }
                else
                {
                    createdAt = parsed;
                }
            }
        }

        if (!body.IsValid)
        {
            return null;
        }

        return new InvoiceOrder
        {
            Amount = amount!.Value,
            Currency = currency!,
            Network = network,
            PaymentMethods = methods,
            OrderId = orderId,
            Description = description,
            CustomerId = customerId,
            CustomerEmail = email,
            MetadataJson = metadata,
            LineItems = lineItems,
            ExpiresIn = expiresIn,
            AllowedErrorPercent = allowedError,
            CallbackUrl = callback,
            RedirectUrl = redirect,
            CreatedAt = createdAt,
        };
    }

    public static DateTimeOffset? ParseDate(string? text)
    {
        if (text is null)
        {
            return null;
        }

        // RFC 3339 fractions have 1 to 9 digits here; the 8th and 9th (below 100 ns) are cut, the rest padded to 7.
        var fraction = Fraction.Match(text);
        if (fraction.Success)
        {
            var digits = fraction.Groups[1].Value;
            if (digits.Length is 0 or > 9)
            {
                return null;
            }

            text = string.Concat(text.AsSpan(0, fraction.Index), ".", digits.PadRight(7, '0').AsSpan(0, 7), text.AsSpan(fraction.Index + fraction.Length));
        }

        return DateTimeOffset.TryParseExact(text, DateFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed)
            ? parsed
            : null;
    }

    private static List<LineItem> ParseLineItems(JsonBody body, decimal? amount, CurrencyInfo? currency)
    {
        var items = new List<LineItem>();
        if (body.Element("line_items", JsonValueKind.Array) is not { } array)
        {
            return items;
        }

        if (array.GetArrayLength() > 100)
        {
            body.Fail("line_items", "must have at most 100 items.");
            return items;
        }

        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var path = $"line_items[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                body.Fail(path, "must be an object.");
                continue;
            }

            var description = item.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String && JsonBody.Characters(d.GetString()!) is > 0 and <= MaxDescription ? d.GetString() : null;
            if (description is null)
            {
                body.Fail($"{path}.description", $"is required, at most {MaxDescription} characters.");
            }

            var itemAmount = body.Decimal(item, "amount", $"{path}.amount", ErrorCodes.InvalidAmountFormat);
            var quantity = item.TryGetProperty("quantity", out _) ? body.Decimal(item, "quantity", $"{path}.quantity") : 1m;
            if (itemAmount is <= 0 or > 1_000_000_000_000m || quantity is <= 0 || quantity > 1_000_000 || (currency is not null && itemAmount is { } ia && Amounts.Scale(ia) > currency.Decimals))
            {
                body.Fail(path, "amount and quantity must be positive, the amount within the currency's decimals.");
            }

            if (description is not null && itemAmount is { } okAmount && quantity is { } okQuantity)
            {
                items.Add(new LineItem(description, okAmount, okQuantity));
            }
        }

        if (body.IsValid && amount is { } total && items.Sum(i => i.Amount * i.Quantity) != total)
        {
            body.Fail("line_items", $"the items add up to {items.Sum(i => i.Amount * i.Quantity).ToString(CultureInfo.InvariantCulture)}, not the amount {total.ToString(CultureInfo.InvariantCulture)}.");
        }

        return items;
    }

    private static string? Url(JsonBody body, string name)
    {
        var text = body.String(name, 2048);
        if (text is not null && (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host)))
        {
            body.Fail(name, "must be an absolute http or https URL.");
            return null;
        }

        return text;
    }
}
