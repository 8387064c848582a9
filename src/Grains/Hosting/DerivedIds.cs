using System.Security.Cryptography;
using System.Text;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Merchants;

namespace CryptoPay.Grains.Hosting;

/// <summary>Ids derived from what identifies an object (a request's Idempotency-Key, a batch's number), so every retry and every silo reaches the same grain.</summary>
public static class DerivedIds
{
    /// <summary>The first 16 bytes of SHA-256(<paramref name="name"/>) as an RFC 9562 version 8 (custom) UUID with the RFC variant.</summary>
    public static Guid Uuid(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }

    /// <summary>
    /// The id of a <paramref name="kind"/> of object (<c>invoice</c>, <c>payment-link</c>, ...) created by a request with an
    /// Idempotency-Key: derived from (merchant, mode, key, the key's generation), so a retry of an attempt that died after
    /// creating it (a killed silo) reaches the same grain instead of creating a second object.
    /// </summary>
    public static Guid ForIdempotencyKey(string kind, Guid merchantId, Mode mode, string idempotencyKey, int generation)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        return Uuid($"{kind}\n{merchantId:N}\n{InvoiceProjection.Name(mode)}\n{generation}\n{idempotencyKey}");
    }

    /// <summary>
    /// The same for an object created on an operator's request (a merchant): <paramref name="scope"/> is whose Idempotency-Key
    /// it is (the admin key's scope), so the same key sent with another admin key creates another object.
    /// </summary>
    public static Guid ForIdempotencyKey(string kind, string scope, string idempotencyKey, int generation)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentException.ThrowIfNullOrEmpty(scope);
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        return Uuid($"{kind}\n{scope}\n{generation}\n{idempotencyKey}");
    }
}
