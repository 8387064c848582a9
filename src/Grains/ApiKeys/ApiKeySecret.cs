using System.Security.Cryptography;
using System.Text;
using CryptoPay.Grains.Merchants;

namespace CryptoPay.Grains.ApiKeys;

/// <summary>
/// The shapes a key is issued in: our own, and the formats of the public APIs the compatibility profiles serve, so that a
/// merchant moving from one of them keeps its client code and swaps only the key (API.md, Compatibility profiles).
/// </summary>
public static class KeyFormats
{
    /// <summary><c>cp_live_…</c> / <c>cp_test_…</c>, for <c>/v1</c>.</summary>
    public const string CryptoPay = "cryptopay";

    /// <summary><c>BUSINESSID.SECRET</c>: the merchant id, a dot, and <c>lp_live_…</c> / <c>lp_test_…</c>.</summary>
    public const string LayerPay = "layerpay";

    /// <summary>64 lowercase hex characters (a project key, and the account key of <c>POST /projects</c>).</summary>
    public const string InvoiceApi = "invoice-api";

    /// <summary><c>pk_…:sk_…</c>, sent as <c>Authorization: Bearer {api_key}:{api_secret}</c>.</summary>
    public const string CryptoPayment = "cryptopayment";

    /// <summary><c>sk_live_…</c> / <c>sk_test_…</c>.</summary>
    public const string Ippan = "ippan";

    /// <summary><c>pp_live_…</c> / <c>pp_test_…</c> (the document shows no shape; any opaque string is sent as <c>x-api-key</c>).</summary>
    public const string Pepay = "pepay";

    public static IReadOnlyList<string> All { get; } = [CryptoPay, LayerPay, InvoiceApi, CryptoPayment, Ippan, Pepay];
}

/// <summary>
/// A freshly generated key: the secret is shown once and never stored. Its id is taken from the SHA-256 of the whole
/// secret, whatever its format, so authenticating a request is a single grain call with no index table.
/// </summary>
public sealed record ApiKeySecret(string Secret, Guid Id, string Hash, string Prefix)
{
    public const string LivePrefix = "cp_live_";
    public const string TestPrefix = "cp_test_";
    private const string Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    private const int RandomLength = 40;
    private const int MinLength = 32;
    private const int MaxLength = 200;

    public static ApiKeySecret Generate(Mode mode) => Generate(mode, KeyFormats.CryptoPay, Guid.Empty);

    /// <summary>A new key in <paramref name="format"/> (<see cref="KeyFormats"/>); LayerPay's carries the merchant id as its business id.</summary>
    public static ApiKeySecret Generate(Mode mode, string format, Guid merchantId)
    {
        var live = mode == Mode.Live;
        var secret = format switch
        {
            KeyFormats.CryptoPay => (live ? LivePrefix : TestPrefix) + Random(RandomLength),
            KeyFormats.LayerPay => $"{merchantId:D}.{(live ? "lp_live_" : "lp_test_")}{Random(RandomLength)}",
            KeyFormats.InvoiceApi => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)),
            KeyFormats.CryptoPayment => $"pk_{(live ? "" : "test_")}{Random(24)}:sk_{(live ? "" : "test_")}{Random(RandomLength)}",
            KeyFormats.Ippan => (live ? "sk_live_" : "sk_test_") + Random(RandomLength),
            KeyFormats.Pepay => (live ? "pp_live_" : "pp_test_") + Random(RandomLength),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Not a key format."),
        };
        return Describe(secret);
    }

    /// <summary>
    /// Id and hash of a presented key; null when it cannot be a key of any format (too short or long, or characters no
    /// format uses). Which format and mode it has is stored with the key, not read from its text.
    /// </summary>
    public static ApiKeySecret? Parse(string? presented) =>
        presented is { Length: >= MinLength and <= MaxLength } && !presented.AsSpan().ContainsAnyExcept(KeyCharacters)
            ? Describe(presented)
            : null;

    /// <summary>The characters of every format: base62, and the separators <c>_ . : -</c>.</summary>
    private static readonly System.Buffers.SearchValues<char> KeyCharacters = System.Buffers.SearchValues.Create(Base62 + "_.:-");

    /// <summary>Compares the stored hash with this secret's in constant time.</summary>
    public bool Matches(string storedHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash), Encoding.ASCII.GetBytes(storedHash));

    private static string Random(int length) => RandomNumberGenerator.GetString(Base62, length);

    /// <summary>The prefix shown in key lists (after a LayerPay key's business id): enough to tell keys apart, far too little to use one.</summary>
    private static ApiKeySecret Describe(string secret)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(secret));
        var secretPart = secret[(secret.IndexOf('.', StringComparison.Ordinal) + 1)..];
        return new ApiKeySecret(secret, new Guid(digest.AsSpan(0, 16)), Convert.ToHexStringLower(digest), secretPart[..Math.Min(secretPart.Length, 16)]);
    }
}
