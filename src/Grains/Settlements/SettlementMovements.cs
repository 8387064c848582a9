using System.Numerics;
using CryptoPay.Grains.Ledger;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Grains.Settlements;

/// <summary>The settlement batch's own movement: the network fee its transactions actually paid, once.</summary>
public static class SettlementMovements
{
    public static string NetworkFeeId(string settlementKey) => $"network-fee:{settlementKey}";

    /// <summary>
    /// The fee paid to the network, in the native coin, out of the operator's fees: merchants were charged the configured
    /// withdrawal fee (booked to the operator with each payout); what the chain really took is the operator's cost.
    /// </summary>
    public static LedgerMovement NetworkFee(string settlementKey, string network, BigInteger feeUnits, DateTimeOffset at)
    {
        var native = LedgerKeys.AssetLabel(Network.Get(network).NativeSymbol, network);
        return new LedgerMovement(NetworkFeeId(settlementKey), LedgerMovementKind.SettlementNetworkFee, settlementKey, at,
        [
            new LedgerEntry(LedgerKeys.OperatorFees, native, -feeUnits),
            new LedgerEntry(LedgerKeys.NetworkFees(network), native, feeUnits),
        ]);
    }
}
