using System.Security.Cryptography;
using System.Text;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;

namespace CryptoPay.Api.Access;

/// <summary>
/// Whose an Idempotency-Key is: the same key sent by two callers is two keys, each its own
/// <see cref="Grains.Idempotency.IIdempotencyGrain"/> (<see cref="GrainKey"/>).
/// </summary>
public static class IdempotencyScopes
{
    /// <summary>Requests made with the operator admin key: named by a hash of the key, never by the key.</summary>
    public static string Admin(string adminKey) =>
        $"admin/{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(adminKey)))[..16]}";

    /// <summary>A merchant's requests in one mode.</summary>
    public static string Merchant(Guid merchantId, Mode mode) => $"{merchantId:N}/{InvoiceProjection.Name(mode)}";

    /// <summary>The key of the grain that holds <paramref name="idempotencyKey"/> of <paramref name="scope"/>.</summary>
    public static string GrainKey(string scope, string idempotencyKey) => $"{scope}/{idempotencyKey}";
}
