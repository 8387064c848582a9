using CryptoPay.Grains.Merchants;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.Invoices;

public sealed record OrderIndexState
{
    public Guid? InvoiceId { get; set; }
}

/// <summary>
/// Reserves an order id for one invoice, keyed merchant/mode/order id: its turns are serial
/// cluster-wide, so two silos racing for the same order id cannot both win. The reservation and
/// the invoice's creation commit together (the creation is a message of the same turn).
/// </summary>
[GrainType("invoice-order-index")]
public interface IOrderIndexGrain : IGrainWithStringKey
{
    /// <summary>Reserves the order id for the invoice and creates it; returns the id of the invoice that holds the order id.</summary>
    Task<Guid> Reserve(Guid invoiceId, InvoiceSpec spec);
}

public sealed class OrderIndexGrain : Grain<OrderIndexState>, IOrderIndexGrain
{
    public static string KeyOf(Guid merchantId, Mode mode, string orderId) =>
        $"{merchantId:N}/{InvoiceProjection.Name(mode)}/{orderId}";

    public async Task<Guid> Reserve(Guid invoiceId, InvoiceSpec spec)
    {
        if (State.InvoiceId is { } owner)
        {
            return owner;
        }

        State.InvoiceId = invoiceId;
        await Send<IInvoiceGrain>(invoiceId).Open(spec);
        return invoiceId;
    }
}
