using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;
using CryptoPay.Api.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CryptoPay.Api.Json;

/// <summary>
/// Reads request bodies by hand, field by field, so that malformed JSON, wrong types, huge numbers and
/// unknown values each get a precise 4xx problem instead of a framework error.
/// </summary>
public sealed class JsonBody
{
    public const int MaxBytes = 64 * 1024;

    private readonly JsonElement root;

    private JsonBody(JsonElement root) => this.root = root;

    /// <summary>A body the server composed itself (a payment link's invoice), validated like a request's.</summary>
    public static JsonBody Of(JsonElement root) => new(root.Clone());

    /// <summary>The body as sent, for a compatibility profile composing the /v1 body from it.</summary>
    public JsonElement Root => root;

    public Dictionary<string, string[]> Errors { get; } = new(StringComparer.Ordinal);

    /// <summary>The most specific code among the errors seen (an amount or currency problem beats a generic one).</summary>
    public string Code { get; private set; } = ErrorCodes.ValidationFailed;

    public bool IsValid => Errors.Count == 0;

    /// <summary>
    /// Reads a body whose one field is a required reason (an operator's rejection or failure, shown to the merchant): the
    /// reason, or the problem to answer.
    /// </summary>
    public static async Task<(string? Reason, ProblemHttpResult? Problem)> ReadReasonAsync(HttpRequest request, int maxCharacters = 500)
    {
        var (body, problem) = await ReadAsync(request);
        if (body is null)
        {
            return (null, problem);
        }

        var reason = body.Text("reason", maxCharacters, required: true);
        return body.IsValid ? (reason, null) : (null, body.Problem());
    }

    public static async Task<(JsonBody? Body, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, bool allowEmpty = false)
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }

        byte[] bytes;
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted);
            bytes = buffer.ToArray();
        }
        catch (BadHttpRequestException error) when (error.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, TooLarge());
        }

        if (bytes.Length > MaxBytes)
        {
            return (null, TooLarge());
        }

        if (bytes.Length == 0 && allowEmpty)
        {
            return (new JsonBody(JsonDocument.Parse("{}").RootElement), null);
        }

        if (!Utf8.IsValid(bytes))
        {
            return (null, ApiProblem.Invalid("body", "The body is not UTF-8 text."));
        }

        try
        {
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = 32 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, ApiProblem.Invalid("body", "The body must be a JSON object."));
            }

            if (FindRefusal(document.RootElement, "") is { } refused)
            {
                return (null, ApiProblem.Invalid(refused.Path, refused.Message));
            }

            return (new JsonBody(document.RootElement.Clone()), null);
        }
        catch (JsonException error)
        {
            return (null, ApiProblem.Invalid("body", $"The body is not valid JSON: {error.Message}"));
        }
    }

    /// <summary>
    /// Every name and string in the body, at any depth, must be text every store keeps as sent: valid UTF-16 (no lone
    /// surrogate escapes) without U+0000, which PostgreSQL text and jsonb cannot hold; and no object may name a key twice,
    /// which would leave the value read to the parser's choice. Checked once here so no field can forget it.
    /// </summary>
    private static (string Path, string Message)? FindRefusal(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    if (Unstorable(() => property.Name) is { } nameProblem)
                    {
                        return (path.Length == 0 ? "body" : path, $"has a key that {nameProblem}");
                    }

                    var child = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
                    if (!names.Add(property.Name))
                    {
                        return (child, "is given more than once.");
                    }

                    if (FindRefusal(property.Value, child) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindRefusal(item, $"{path}[{index++}]") is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case JsonValueKind.String:
                return Unstorable(() => element.GetString()!) is { } valueProblem ? (path, valueProblem) : null;
            default:
                return null;
        }
    }

    private static string? Unstorable(Func<string> read)
    {
        string text;
        try
        {
            text = read();
        }
        catch (InvalidOperationException)
        {
            // System.Text.Json refuses to decode an escaped lone surrogate ("\ud800").
            return "is not valid Unicode text (a lone surrogate escape).";
        }

        return text.Contains('\0', StringComparison.Ordinal) ? "contains the NUL character (U+0000), which cannot be stored." : null;
    }

    public ProblemHttpResult Problem() => ApiProblem.Validation(Code, Errors);

    public void Fail(string field, string message, string code = ErrorCodes.ValidationFailed)
    {
        Errors[field] = Errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];
        if (Code == ErrorCodes.ValidationFailed)
        {
            Code = code;
        }
    }

    /// <summary>The field as sent (null when absent or JSON null), for a body passed on to be read elsewhere.</summary>
    public JsonElement? Raw(string name) => root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public bool Has(string name) => root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    /// <summary>A code, identifier or URL: its limit counts UTF-16 units, which bounds what indexes and columns hold.</summary>
    public string? String(string name, int maxLength, bool required = false) => Read(name, maxLength, required, text => text.Length);

    /// <summary>Text people write and read (a description, a name): its limit counts the characters they see.</summary>
    public string? Text(string name, int maxCharacters, bool required = false) => Read(name, maxCharacters, required, Characters);

    /// <summary>User-perceived characters (extended grapheme clusters): an emoji or a letter with its accents is one.</summary>
    public static int Characters(string text) => new StringInfo(text).LengthInTextElements;

    private string? Read(string name, int maxLength, bool required, Func<string, int> length)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Fail(name, "is required.");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            Fail(name, "must be a string.");
            return null;
        }

        var text = value.GetString()!;
        if (length(text) > maxLength)
        {
            Fail(name, $"must be at most {maxLength} characters.");
            return null;
        }

        if (required && string.IsNullOrWhiteSpace(text))
        {
            Fail(name, "must not be empty.");
            return null;
        }

        return text;
    }

    /// <summary>An exact decimal given as a JSON string or number: digits with an optional fraction, no exponent, no sign.</summary>
    public decimal? Decimal(string name, bool required = false, string formatCode = ErrorCodes.ValidationFailed) =>
        ParseDecimal(root, name, name, required, formatCode);

    public decimal? Decimal(JsonElement owner, string name, string path, string formatCode = ErrorCodes.ValidationFailed) =>
        ParseDecimal(owner, name, path, required: true, formatCode);

    public long? Integer(string name, long min, long max)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
        {
            Fail(name, "must be an integer.");
            return null;
        }

        if (number < min || number > max)
        {
            Fail(name, $"must be between {min} and {max}.");
            return null;
        }

        return number;
    }

    public IReadOnlyList<string>? StringList(string name, int maxItems, int maxLength)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() > maxItems || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String || e.GetString()!.Length > maxLength))
        {
            Fail(name, $"must be an array of at most {maxItems} strings of at most {maxLength} characters.");
            return null;
        }

        return [.. value.EnumerateArray().Select(e => e.GetString()!)];
    }

    public bool? Boolean(string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Fail(name, "must be true or false.");
            return null;
        }

        return value.GetBoolean();
    }

    public JsonElement? Element(string name, JsonValueKind kind)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != kind)
        {
            Fail(name, $"must be a JSON {kind.ToString().ToLowerInvariant()}.");
            return null;
        }

        return value;
    }

    private decimal? ParseDecimal(JsonElement owner, string name, string path, bool required, string formatCode)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Fail(path, "is required.", formatCode);
            }

            return null;
        }

        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
        if (text is null || text.Length > 40 ||
            !decimal.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) ||
            text.StartsWith('+') || text.StartsWith('.') || text.EndsWith('.'))
        {
            Fail(path, "must be a decimal number such as \"100.00\" (a string or a JSON number, no exponent).", formatCode);
            return null;
        }

        return parsed;
    }

    private static ProblemHttpResult TooLarge() =>
        ApiProblem.Create(StatusCodes.Status413PayloadTooLarge, ErrorCodes.ValidationFailed, $"The body must be at most {MaxBytes} bytes.");
}
