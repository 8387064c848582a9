using System.Numerics;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Withdrawals;

namespace CryptoPay.Grains.Tests.Ledger;

/// <summary>The invariant checker over withdrawals: reserved and paid amounts must match the withdrawals' journals and statuses.</summary>
public sealed class WithdrawalInvariantsTests
{
    private static readonly Guid Merchant = Guid.NewGuid();
    private static readonly string OutputKey = LedgerKeys.Output("btc", "aa", 0);

    // 100 deposited, 3 fee: 97 available before any withdrawal.
    private static readonly LedgerMovement Credit = new($"credit:{OutputKey}:1", LedgerMovementKind.DepositCredit, OutputKey, DateTimeOffset.UnixEpoch,
        [new("deposits:btc", "BTC", -100), new(LedgerKeys.MerchantAvailable(Merchant, Mode.Live), "BTC", 97), new(LedgerKeys.OperatorFees, "BTC", 3)]);

    private static LedgerOutputState Output() => new()
    {
        OutputKey = OutputKey,
        Network = "btc",
        Txid = "aa",
        MerchantId = Merchant,
        Mode = Mode.Live,
        Asset = "BTC",
        AssetCode = "BTC",
        GrossUnits = 100,
        Credited = true,
        Movements = [Credit],
    };

    private static WithdrawalState Withdrawal(WithdrawalStatus status, BigInteger amount, BigInteger fee, bool close = true)
    {
        var spec = new WithdrawalSpec
        {
            Id = Guid.NewGuid(),
            MerchantId = Merchant,
            Mode = Mode.Live,
            AssetCode = "BTC",
            Network = "btc",
            Asset = "BTC",
            Decimals = 8,
            AmountUnits = amount,
            FeeUnits = fee,
            Address = "bc1q",
            CreatedAt = DateTimeOffset.UnixEpoch,
        };
        var reserve = WithdrawalMovements.Reserve(spec.Key, Merchant, Mode.Live, "BTC", amount, fee, DateTimeOffset.UnixEpoch);
        List<LedgerMovement> movements = status switch
        {
            WithdrawalStatus.Refused => [],
            WithdrawalStatus.Queued or WithdrawalStatus.Review => [reserve],
            WithdrawalStatus.Completed => close ? [reserve, WithdrawalMovements.PayOut(spec.Key, Merchant, Mode.Live, "btc", "BTC", amount, fee, DateTimeOffset.UnixEpoch)] : [reserve],
            _ => close ? [reserve, WithdrawalMovements.Release(reserve, DateTimeOffset.UnixEpoch)] : [reserve],
        };
        return new WithdrawalState { Spec = spec, Status = status, Movements = movements };
    }

    private static MerchantBalanceState Balance(BigInteger available, BigInteger reserved, BigInteger fees, BigInteger withdrawn, long movements, params WithdrawalState[] open) => new()
    {
        MerchantId = Merchant,
        Mode = Mode.Live,
        Asset = "BTC",
        Network = "btc",
        Decimals = 8,
        Available = available,
        Reserved = reserved,
        Deposited = 100,
        Fees = fees,
        Withdrawn = withdrawn,
        MovementCount = movements,
        Reservations = open.ToDictionary(w => w.Spec!.Key, w => w.Spec!.TotalUnits),
    };

    private static string Broken(LedgerSnapshot snapshot) =>
        Assert.Throws<LedgerInvariantException>(() => LedgerInvariants.Check(snapshot)).Invariant;

    [Fact]
    public void Reserved_released_and_paid_withdrawals_that_match_their_balance_pass()
    {
        var queued = Withdrawal(WithdrawalStatus.Queued, 20, 1);
        var rejected = Withdrawal(WithdrawalStatus.Rejected, 10, 1);
        var completed = Withdrawal(WithdrawalStatus.Completed, 30, 2);
        var refused = Withdrawal(WithdrawalStatus.Refused, 500, 1);

        // 97 - 21 reserved - 32 paid = 44 available; fees 3 + 2; withdrawn 30; movements 1 + 1 + 2 + 2.
        LedgerInvariants.Check(new LedgerSnapshot([Balance(44, 21, 5, 30, 6, queued)], [Output()], [queued, rejected, completed, refused]));
    }

    [Fact]
    public void Each_broken_withdrawal_state_is_named()
    {
        var queued = Withdrawal(WithdrawalStatus.Queued, 20, 1);
        Assert.Equal("reserved equals its journal", Broken(new LedgerSnapshot([Balance(76, 21, 3, 0, 2)], [Output()], [queued])));
        Assert.Equal("balance equals its journal", Broken(new LedgerSnapshot([Balance(97, 21, 3, 0, 2, queued)], [Output()], [queued])));
        Assert.Equal("every movement posted once", Broken(new LedgerSnapshot([Balance(76, 21, 3, 0, 1, queued)], [Output()], [queued])));
        Assert.Equal("a withdrawal's journal follows its status", Broken(new LedgerSnapshot([Balance(76, 21, 3, 0, 2, queued)], [Output()], [queued with { Status = WithdrawalStatus.Cancelled }])));
        var overdrawn = Withdrawal(WithdrawalStatus.Queued, 99, 1);
        Assert.Equal("no balance below zero", Broken(new LedgerSnapshot([Balance(-3, 100, 3, 0, 2, overdrawn)], [Output()], [overdrawn])));

        var completed = Withdrawal(WithdrawalStatus.Completed, 30, 2);
        Assert.Equal("balance equals deposits - fees - withdrawals", Broken(new LedgerSnapshot([Balance(65, 0, 5, 29, 3)], [Output()], [completed])));
        var wrongReserve = Withdrawal(WithdrawalStatus.Queued, 20, 1);
        wrongReserve.Spec = wrongReserve.Spec! with { FeeUnits = 2 };
        Assert.Equal("a reservation holds amount + fee", Broken(new LedgerSnapshot([Balance(76, 21, 3, 0, 2, queued)], [Output()], [wrongReserve])));
    }
}
