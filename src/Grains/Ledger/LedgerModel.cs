using System.Globalization;
using System.Numerics;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Merchants;
using Orleans;

namespace CryptoPay.Grains.Ledger;

/// <summary>An impossible ledger state, detected at once; the message names the invariant broken.</summary>
[GenerateSerializer]
[Alias("cryptopay.ledger-invariant")]
public sealed class LedgerInvariantException(string invariant, string detail) : Exception($"Ledger invariant '{invariant}' broken: {detail}")
{
    [Id(0)]
    public string Invariant { get; } = invariant;
}

/// <summary>The operator's ledger settings.</summary>
public sealed class LedgerOptions
{
    /// <summary>Operator fee on every deposit credit, in basis points (1/10,000) of the gross amount, 0 to 10,000.</summary>
    public int FeeBasisPoints { get; set; }

    public void Validate()
    {
        if (FeeBasisPoints is < 0 or > 10_000)
        {
            throw new InvalidOperationException($"Ledger:FeeBasisPoints must be between 0 and 10000 (was {FeeBasisPoints}).");
        }
    }

    /// <summary>The operator's part of <paramref name="gross"/>: gross × bps / 10,000 rounded down, so rounding always favours the merchant.</summary>
    public BigInteger FeeOf(BigInteger gross)
    {
        Validate();
        return gross.Sign <= 0 ? BigInteger.Zero : BigInteger.Divide(gross * FeeBasisPoints, 10_000);
    }
}

/// <summary>One leg of a movement: a signed amount on an account, positive = credit (the account holds more), negative = debit.</summary>
[GenerateSerializer]
[Alias("cryptopay.ledger-entry")]
public sealed record LedgerEntry([property: Id(0)] string Account, [property: Id(1)] string Asset, [property: Id(2)] BigInteger Amount);

public enum LedgerMovementKind
{
    DepositCredit,
    DepositReversal,

    /// <summary>A withdrawal's amount and fee, moved from the merchant's available balance to its reserved balance.</summary>
    WithdrawalReservation,

    /// <summary>The exact compensation of a reservation (a rejected, cancelled or failed withdrawal).</summary>
    WithdrawalRelease,

    /// <summary>A paid withdrawal: the reservation leaves the merchant, the amount to the chain, the fee to the operator.</summary>
    WithdrawalPayout,

    /// <summary>The network fee a settlement batch actually paid (native coin): from the operator's fees to the network.</summary>
    SettlementNetworkFee,
}

/// <summary>A balanced set of entries (per asset they sum to zero), recorded once and never edited.</summary>
[GenerateSerializer]
[Alias("cryptopay.ledger-movement")]
public sealed record LedgerMovement([property: Id(0)] string Id, [property: Id(1)] LedgerMovementKind Kind, [property: Id(2)] string OutputKey, [property: Id(3)] DateTimeOffset At, [property: Id(4)] IReadOnlyList<LedgerEntry> Entries)
{
    /// <summary>Throws when the entries of an asset do not sum to zero.</summary>
    public void EnsureBalanced()
    {
        foreach (var asset in Entries.GroupBy(e => e.Asset, StringComparer.Ordinal))
        {
            var sum = asset.Aggregate(BigInteger.Zero, (s, e) => s + e.Amount);
            if (!sum.IsZero)
            {
                throw new LedgerInvariantException("debits equal credits", $"movement {Id} leaves {sum} units of {asset.Key} unbalanced.");
            }
        }
    }

    public BigInteger AmountOn(string account) =>
        Entries.Where(e => e.Account == account).Aggregate(BigInteger.Zero, (s, e) => s + e.Amount);
}

/// <summary>An on-chain output paying a merchant: unique on (network, txid, output or log index).</summary>
[GenerateSerializer]
[Alias("cryptopay.deposit-credit")]
public sealed record DepositCredit([property: Id(0)] Guid MerchantId, [property: Id(1)] Mode Mode, [property: Id(2)] string Network, [property: Id(3)] string Asset, [property: Id(4)] string Txid, [property: Id(5)] int OutputIndex, [property: Id(6)] BigInteger AmountUnits, [property: Id(7)] Guid InvoiceId)
{
    public string OutputKey => LedgerKeys.Output(Network, Txid, OutputIndex);

    public string BalanceKey => LedgerKeys.Balance(MerchantId, Mode, LedgerKeys.AssetLabel(Asset, Network));
}

/// <summary>Names of grains, accounts and assets in the ledger.</summary>
public static class LedgerKeys
{
    public const string OperatorFees = "operator:fees";

    /// <summary>The asset as merchants see it: the network's native coin alone (<c>BTC</c>), a token with its network (<c>USDT-TRON</c>).</summary>
    public static string AssetLabel(string asset, string network)
    {
        var native = Chains.Networks.Network.Get(network).NativeSymbol;
        return string.Equals(asset, native, StringComparison.OrdinalIgnoreCase)
            ? asset.ToUpperInvariant()
            : $"{asset.ToUpperInvariant()}-{network.ToUpperInvariant()}";
    }

    /// <summary>Decimal places of the asset on the network, from the payment-method table.</summary>
    public static int DecimalsOf(string asset, string network) =>
        Assets.Methods.FirstOrDefault(m => string.Equals(m.Asset, asset, StringComparison.OrdinalIgnoreCase) && m.Network == network)?.Decimals
        ?? throw new ArgumentException($"No payment method for {asset} on {network}.", nameof(asset));

    public static string Output(string network, string txid, int outputIndex) =>
        string.Create(CultureInfo.InvariantCulture, $"{network}:{txid.ToLowerInvariant()}:{outputIndex}");

    public static string Balance(Guid merchantId, Mode mode, string assetLabel) =>
        $"{merchantId:D}:{ModeName(mode)}:{assetLabel}";

    public static string Deposits(string network) => $"deposits:{network}";

    public static string MerchantAvailable(Guid merchantId, Mode mode) => $"merchant:{merchantId:D}:{ModeName(mode)}:available";

    /// <summary>The merchant's balance held for withdrawals not yet paid or released.</summary>
    public static string MerchantReserved(Guid merchantId, Mode mode) => $"merchant:{merchantId:D}:{ModeName(mode)}:reserved";

    /// <summary>What left the gateway on <paramref name="network"/> as withdrawals (the counterpart of <see cref="Deposits"/>).</summary>
    public static string Payouts(string network) => $"payouts:{network}";

    /// <summary>What settlement batches paid the miners or validators of <paramref name="network"/>, out of the operator's fees.</summary>
    public static string NetworkFees(string network) => $"network-fees:{network}";

    public static string ModeName(Mode mode) => mode == Mode.Live ? "live" : "test";

    /// <summary>Integer smallest units as an exact decimal string with the asset's decimals (<c>153210</c>, 8 → <c>0.00153210</c>).</summary>
    public static string FormatUnits(BigInteger units, int decimals)
    {
        var digits = BigInteger.Abs(units).ToString(CultureInfo.InvariantCulture).PadLeft(decimals + 1, '0');
        var text = decimals == 0 ? digits : digits[..^decimals] + "." + digits[^decimals..];
        return units.Sign < 0 ? "-" + text : text;
    }
}
