using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace CryptoPay.Grains.Storage;

/// <summary>
/// How grain state is written as JSON: exact numbers (on-chain amounts as integer strings, never floating point),
/// enums by name, snake_case property names and no type names, so a renamed class still reads its stored state.
/// Properties are always written, defaults included: a 0 written over a non-zero initialiser reads back as 0. Properties
/// computed from the others (a getter alone, no constructor parameter) are not written: nothing could read them back.
/// </summary>
public static class StateJson
{
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>A deep copy of <paramref name="value"/>, through its stored form (for snapshots a later change must not reach).</summary>
    public static T Clone<T>(T value) where T : class =>
        JsonSerializer.Deserialize<T>(JsonSerializer.SerializeToUtf8Bytes(value, Options), Options)!;

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            NumberHandling = JsonNumberHandling.Strict,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
            IncludeFields = false,
            // PostgreSQL's jsonb keeps keys in its own order, so a polymorphic value's discriminator (an effect's kind)
            // comes back wherever jsonb put it.
            AllowOutOfOrderMetadataProperties = true,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.Converters.Add(new BigIntegerConverter());
        options.TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { LeaveOutComputed } };
        options.MakeReadOnly();
        return options;
    }

    private static void LeaveOutComputed(JsonTypeInfo type)
    {
        foreach (var property in type.Properties)
        {
            if (property.Set is null && property.AssociatedParameter is null)
            {
                property.ShouldSerialize = static (_, _) => false;
            }
        }
    }

    private sealed class BigIntegerConverter : JsonConverter<BigInteger>
    {
        public override BigInteger Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString(),
                JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
                _ => throw new JsonException("Expected an integer string."),
            };
            return BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new JsonException($"'{text}' is not an integer.");
        }

        public override void Write(Utf8JsonWriter writer, BigInteger value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
    }
}
