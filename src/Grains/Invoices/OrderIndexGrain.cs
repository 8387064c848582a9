using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Invoices;

[GenerateSerializer]
[Alias("cryptopay.order-index-state")]
public sealed record OrderIndexState
{
    [Id(0)]
    public Guid? InvoiceId { get; set; }
}

/// <summary>
/// Reserves an order id for one invoice, keyed merchant/mode/order id: one activation cluster-wide, so two silos
/// racing for the same order id cannot both win. The invoice's creation is an effect of the reservation's write.
/// </summary>
[Alias("cryptopay.invoice-order-index")]
public interface IOrderIndexGrain : IGrainWithStringKey, IWakeable
{
    /// <summary>Reserves the order id for the invoice and creates it; returns the id of the invoice that holds the order id.</summary>
    Task<Guid> Reserve(Guid invoiceId, InvoiceSpec spec);
}

[GrainType("invoice-order-index")]
public sealed class OrderIndexGrain(
    [PersistentState("invoice-order-index")] IPersistentState<GrainRecord<OrderIndexState>> record,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<OrderIndexGrain> logger)
    : EffectGrain<OrderIndexState>(record, clock, logger), IOrderIndexGrain
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
        Send(new OpenInvoice(invoiceId, spec));
        await SaveAsync();
        return invoiceId;
    }
}
