using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Webhooks;
using Orleans;

namespace CryptoPay.Grains.Effects;

// The effects of a withdrawal on other grains (see GatewayEffects.cs for the rest). The reserve itself is a call with an
// answer (the balance may refuse it), made before the withdrawal exists; release and payout cannot be refused.

/// <summary>A rejected, cancelled or failed withdrawal: its balance releases the reservation (a compensating movement, once).</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.release-reservation")]
public sealed record ReleaseReservation([property: Id(0)] string BalanceKey, [property: Id(1)] BalancePosting Posting) : GrainEffect
{
    public override string Receiver => $"merchant-balance/{BalanceKey}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<IMerchantBalanceGrain>(BalanceKey).Release(this);
}

/// <summary>A completed withdrawal: its balance moves the reservation out (amount paid, fee to the operator), once.</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.pay-out-reservation")]
public sealed record PayOutReservation([property: Id(0)] string BalanceKey, [property: Id(1)] BalancePosting Posting) : GrainEffect
{
    public override string Receiver => $"merchant-balance/{BalanceKey}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<IMerchantBalanceGrain>(BalanceKey).PayOut(this);
}

/// <summary>A withdrawal's change, as the webhook events it raises, to the merchant's endpoints.</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.publish-withdrawal-events")]
public sealed record PublishWithdrawalEvents([property: Id(0)] string EndpointsKey, [property: Id(1)] WithdrawalEventBatch Batch) : GrainEffect
{
    public override string Receiver => $"webhook-endpoints/{EndpointsKey}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<IWebhookEndpointsGrain>(EndpointsKey).PublishWithdrawal(this);
}

/// <summary>A settled batch, as the event of one merchant whose withdrawals it paid, to that merchant's endpoints.</summary>
[GenerateSerializer]
[Alias("cryptopay.effect.publish-settlement-event")]
public sealed record PublishSettlementEvent([property: Id(0)] string EndpointsKey, [property: Id(1)] SettlementEvent Event) : GrainEffect
{
    public override string Receiver => $"webhook-endpoints/{EndpointsKey}";

    public override Task DeliverAsync(IGrainFactory grains) => grains.GetGrain<IWebhookEndpointsGrain>(EndpointsKey).PublishSettlement(this);
}
