using System.Numerics;
using CryptoPay.Grains.Merchants;
using Orleans;

namespace CryptoPay.Grains.Ledger;

/// <summary>Whether a balance reserved a withdrawal's amount and fee.</summary>
public enum ReservationOutcome
{
    /// <summary>Reserved now, or reserved before by the same withdrawal (a repeated reserve changes nothing).</summary>
    Reserved,

    /// <summary>Available is less than amount + fee: nothing changed.</summary>
    InsufficientBalance,

    /// <summary>This withdrawal's reservation was released or paid already; a late repeat of its reserve changes nothing.</summary>
    Closed,
}

/// <summary>
/// The three movements of a withdrawal's journal, built from the withdrawal alone so every repeat builds the same one:
/// reserve (available → reserved, amount + fee), then either its exact compensation (release) or the payout (reserved →
/// the network's payouts account for the amount, the operator's fee account for the fee).
/// </summary>
public static class WithdrawalMovements
{
    public static string ReserveId(string withdrawalKey) => $"reserve:{withdrawalKey}";

    public static string ReleaseId(string withdrawalKey) => $"release:{withdrawalKey}";

    public static string PayoutId(string withdrawalKey) => $"payout:{withdrawalKey}";

    public static LedgerMovement Reserve(string withdrawalKey, Guid merchantId, Mode mode, string asset, BigInteger amount, BigInteger fee, DateTimeOffset at) =>
        new(ReserveId(withdrawalKey), LedgerMovementKind.WithdrawalReservation, withdrawalKey, at,
        [
            new LedgerEntry(LedgerKeys.MerchantAvailable(merchantId, mode), asset, -(amount + fee)),
            new LedgerEntry(LedgerKeys.MerchantReserved(merchantId, mode), asset, amount + fee),
        ]);

    public static LedgerMovement Release(LedgerMovement reserve, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(reserve);
        return new(ReleaseId(reserve.OutputKey), LedgerMovementKind.WithdrawalRelease, reserve.OutputKey, at,
            [.. reserve.Entries.Select(e => e with { Amount = -e.Amount })]);
    }

    public static LedgerMovement PayOut(string withdrawalKey, Guid merchantId, Mode mode, string network, string asset, BigInteger amount, BigInteger fee, DateTimeOffset at)
    {
        List<LedgerEntry> entries =
        [
            new(LedgerKeys.MerchantReserved(merchantId, mode), asset, -(amount + fee)),
            new(LedgerKeys.Payouts(network), asset, amount),
        ];
        if (!fee.IsZero)
        {
            entries.Add(new LedgerEntry(LedgerKeys.OperatorFees, asset, fee));
        }

        return new(PayoutId(withdrawalKey), LedgerMovementKind.WithdrawalPayout, withdrawalKey, at, entries);
    }
}
