using System.Text.Json;

namespace CryptoPay.Chains.Rpc;

/// <summary>Strict accessors for node answers: a missing or mistyped field throws with its name.</summary>
internal static class JsonElementReading
{
    public static JsonElement Required(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new KeyNotFoundException($"field '{name}' is missing");

    public static string RequiredString(this JsonElement element, string name) =>
        element.Required(name).GetString() ?? throw new KeyNotFoundException($"field '{name}' is null");

    public static string? OptionalString(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static IReadOnlyList<string> StringArray(this JsonElement element)
    {
        var items = new List<string>(element.GetArrayLength());
        foreach (var item in element.EnumerateArray())
        {
            items.Add(item.GetString() ?? throw new FormatException("null in a list of strings"));
        }

        return items;
    }
}
