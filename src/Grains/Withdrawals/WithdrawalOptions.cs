using System.Globalization;

namespace CryptoPay.Grains.Withdrawals;

/// <summary>Minimum amount and network fee of one asset (as balances name it: <c>BTC</c>, <c>USDT-TRON</c>).</summary>
public sealed class WithdrawalAssetOptions
{
    public decimal Minimum { get; set; }

    /// <summary>Charged on top of the amount: the recipient gets the amount, the balance is debited amount + fee.</summary>
    public decimal Fee { get; set; }
}

/// <summary>The "Withdrawals" settings: review threshold, per-asset minimums and fees (API.md defaults).</summary>
public sealed class WithdrawalOptions
{
    /// <summary>A withdrawal worth more than this in USD waits in review for an operator.</summary>
    public decimal ReviewAboveUsd { get; set; } = 500m;

    public Dictionary<string, WithdrawalAssetOptions> Assets { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["BTC"] = new() { Minimum = 0.0005m, Fee = 0.00005m },
        ["LTC"] = new() { Minimum = 0.01m, Fee = 0.001m },
        ["ETH"] = new() { Minimum = 0.005m, Fee = 0.001m },
        ["BNB"] = new() { Minimum = 0.01m, Fee = 0.0005m },
        ["USDT-TRON"] = new() { Minimum = 5m, Fee = 1m },
        ["USDT-BSC"] = new() { Minimum = 5m, Fee = 0.5m },
        ["USDC-BSC"] = new() { Minimum = 5m, Fee = 0.5m },
        ["USDT-ETH"] = new() { Minimum = 20m, Fee = 5m },
        ["USDC-ETH"] = new() { Minimum = 20m, Fee = 5m },
    };

    public WithdrawalAssetOptions? For(string assetLabel) => Assets.TryGetValue(assetLabel, out var asset) ? asset : null;

    public void Validate()
    {
        if (ReviewAboveUsd < 0)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Withdrawals:ReviewAboveUsd must not be negative (was {ReviewAboveUsd})."));
        }

        foreach (var (asset, options) in Assets)
        {
            if (options.Minimum <= 0 || options.Fee < 0)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"Withdrawals:Assets:{asset} needs Minimum > 0 and Fee >= 0 (was {options.Minimum}/{options.Fee})."));
            }
        }
    }
}
