using System.Numerics;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;

namespace CryptoPay.Grains.Tests.Ledger;

/// <summary>The invariant checker itself: each broken state is reported under the invariant's name.</summary>
public sealed class LedgerInvariantsTests
{
    private static readonly Guid Merchant = Guid.NewGuid();
    private static readonly string Available = LedgerKeys.MerchantAvailable(Merchant, Mode.Live);

    private static LedgerMovement Credit(string output, BigInteger gross, BigInteger fee, int n = 1) =>
        new($"credit:{output}:{n}", LedgerMovementKind.DepositCredit, output, DateTimeOffset.UnixEpoch,
            [new("deposits:btc", "BTC", -gross), new(Available, "BTC", gross - fee), new(LedgerKeys.OperatorFees, "BTC", fee)]);

    private static LedgerOutputState Output(string txid, params LedgerMovement[] movements) => new()
    {
        OutputKey = LedgerKeys.Output("btc", txid, 0),
        Network = "btc",
        Txid = txid,
        MerchantId = Merchant,
        Mode = Mode.Live,
        Asset = "BTC",
        AssetCode = "BTC",
        GrossUnits = 100,
        Credited = movements.Length % 2 == 1,
        Movements = [.. movements],
    };

    private static MerchantBalanceState Balance(BigInteger available, BigInteger deposited, BigInteger fees, long movements) => new()
    {
        MerchantId = Merchant,
        Mode = Mode.Live,
        Asset = "BTC",
        Network = "btc",
        Decimals = 8,
        Available = available,
        Deposited = deposited,
        Fees = fees,
        MovementCount = movements,
    };

    private static string Broken(LedgerSnapshot snapshot) =>
        Assert.Throws<LedgerInvariantException>(() => LedgerInvariants.Check(snapshot)).Invariant;

    [Fact]
    public void A_consistent_ledger_passes()
    {
        var a = LedgerKeys.Output("btc", "aa", 0);
        LedgerInvariants.Check(new LedgerSnapshot([Balance(97, 100, 3, 1)], [Output("aa", Credit(a, 100, 3))]));
    }

    [Fact]
    public void Each_broken_state_names_its_invariant()
    {
        var a = LedgerKeys.Output("btc", "aa", 0);
        var unbalanced = Credit(a, 100, 3) with { Entries = [new("deposits:btc", "BTC", -100), new(Available, "BTC", 98), new(LedgerKeys.OperatorFees, "BTC", 3)] };
        Assert.Equal("debits equal credits", Broken(new LedgerSnapshot([], [Output("aa", unbalanced)])));
        Assert.Equal("no output credited twice", Broken(new LedgerSnapshot([Balance(194, 200, 6, 2)], [Output("aa", Credit(a, 100, 3), Credit(a, 100, 3, 2))])));
        Assert.Equal("no output credited twice", Broken(new LedgerSnapshot([Balance(194, 200, 6, 2)], [Output("aa", Credit(a, 100, 3)), Output("aa", Credit(a, 100, 3))])));
        Assert.Equal("balance equals its journal", Broken(new LedgerSnapshot([Balance(194, 200, 6, 1)], [Output("aa", Credit(a, 100, 3))])));
        Assert.Equal("every movement posted once", Broken(new LedgerSnapshot([Balance(97, 100, 3, 2)], [Output("aa", Credit(a, 100, 3))])));
        Assert.Equal("balance equals deposits - fees - withdrawals", Broken(new LedgerSnapshot([Balance(97, 100, 4, 1)], [Output("aa", Credit(a, 100, 3))])));
        var halfReversal = new LedgerMovement($"reversal:{a}:1", LedgerMovementKind.DepositReversal, a, DateTimeOffset.UnixEpoch,
            [new("deposits:btc", "BTC", 50), new(Available, "BTC", -50)]);
        Assert.Equal("a reversal compensates its credit exactly", Broken(new LedgerSnapshot([Balance(47, 50, 3, 2)], [Output("aa", Credit(a, 100, 3), halfReversal)])));
    }
}
