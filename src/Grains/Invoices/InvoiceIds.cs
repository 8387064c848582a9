using System.Security.Cryptography;
using System.Text;
using CryptoPay.Grains.Merchants;

namespace CryptoPay.Grains.Invoices;

/// <summary>
/// Ids of invoices created on request. With an Idempotency-Key the id is derived from (merchant, mode, key, the key's
/// generation), so a retry of an attempt that died after creating its invoice (a killed silo) reaches the same invoice
/// grain instead of creating a second one. Without a key there is nothing to retry by, and the id is random.
/// </summary>
public static class InvoiceIds
{
    public static Guid ForIdempotencyKey(Guid merchantId, Mode mode, string idempotencyKey, int generation)
    {
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"invoice\n{merchantId:N}\n{InvoiceProjection.Name(mode)}\n{generation}\n{idempotencyKey}"), hash);
        // RFC 9562 version 8 (custom) with the RFC variant, so the id is a well-formed UUID.
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
