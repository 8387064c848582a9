using System.Security.Cryptography;
using System.Text;

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
}
