using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Merchants;
using Orleans;

namespace CryptoPay.Grains.Deposits;

/// <summary>
/// Gives an invoice's live payment method a fresh deposit address: the network's pool hands out the next index,
/// then the deposit-address grain records whose it is (so the chain watcher knows it) before anyone is shown it.
/// Two turns, each one short commit; the invoice's own turn comes after, by the caller.
/// </summary>
public sealed class DepositAllocation(IGrainFactory grains)
{
    public async Task<DepositAddressState> AllocateAsync(Guid invoiceId, Guid merchantId, Mode mode, PaymentMethodInfo method, int requiredConfirmations)
    {
        ArgumentNullException.ThrowIfNull(method);
        var pooled = await grains.GetGrain<IAddressPoolGrain>(AddressPoolKeys.Of(method.Network, mode)).Allocate();

        return await grains.GetGrain<IDepositAddressGrain>(DepositAddressKeys.Of(pooled.Network, pooled.Address)).Assign(new DepositAddressState
        {
            Network = pooled.Network,
            Address = pooled.Address,
            Index = pooled.Index,
            InvoiceId = invoiceId,
            MerchantId = merchantId,
            Mode = mode,
            Method = method.Id,
            Asset = method.Asset,
            RequiredConfirmations = requiredConfirmations,
        });
    }
}
