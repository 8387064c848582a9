using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Storage;

namespace CryptoPay.Grains.Invoices;

/// <summary>
/// Ids of invoices created on request. With an Idempotency-Key the id is derived from (merchant, mode, key, the key's
/// generation), so a retry of an attempt that died after creating its invoice (a killed silo) reaches the same invoice
/// grain instead of creating a second one. Without a key there is nothing to retry by, and the id is random.
/// </summary>
public static class InvoiceIds
{
    /// <summary>A random id, registered with this silo's <paramref name="storage"/> so the new invoice's first activation here reads nothing (<see cref="NewGrainKeys"/>).</summary>
    public static Guid Random(ProjectedGrainStorage? storage) => storage?.NewKeys.NewGuid(InvoiceProjection.StateName) ?? Guid.NewGuid();

    /// <summary>
    /// The kind of object an invoice is: with an Idempotency-Key its id is
    /// <see cref="DerivedIds.ForIdempotencyKey(string, Guid, Mode, string, int)"/> of this kind.
    /// </summary>
    public const string Kind = "invoice";
}
