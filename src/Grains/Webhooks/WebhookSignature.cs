using System.Security.Cryptography;
using System.Text;

namespace CryptoPay.Grains.Webhooks;

/// <summary>Standard Webhooks secrets and signatures: <c>v1,base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}"))</c>.</summary>
public static class WebhookSignature
{
    public const string SecretPrefix = "whsec_";
    private const int SecretBytes = 24;

    /// <summary>A new secret: <c>whsec_</c> and the base64 of 24 random bytes.</summary>
    public static string GenerateSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>The HMAC key of a secret: the base64-decoded part after <c>whsec_</c>.</summary>
    public static byte[] KeyOf(string secret) =>
        Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);

    public static string Sign(string secret, string id, long timestamp, string body) => Sign(KeyOf(secret), id, timestamp, body);

    public static string Sign(byte[] key, string id, long timestamp, string body)
    {
        var content = Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{id}.{timestamp}.{body}"));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content));
    }

    /// <summary>The <c>webhook-signature</c> header: one signature per live secret, space-separated.</summary>
    public static string Header(IEnumerable<string> secrets, string id, long timestamp, string body) =>
        string.Join(' ', secrets.Select(s => Sign(s, id, timestamp, body)));
}
