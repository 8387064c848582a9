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

    /// <summary>How long a settlement window lasts: queued withdrawals of a network are paid in one batch per window (at least a minute, Orleans' reminder minimum).</summary>
    public TimeSpan SettlementInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>At most this many payouts go into one batch; the rest wait for the next window.</summary>
    public int MaxPayoutsPerBatch { get; set; } = 1_000;

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

        if (SettlementInterval < TimeSpan.FromMinutes(1))
        {
            throw new InvalidOperationException($"Withdrawals:SettlementInterval must be at least 00:01:00 (was {SettlementInterval}).");
        }

        if (MaxPayoutsPerBatch is < 1 or > 10_000)
        {
            throw new InvalidOperationException($"Withdrawals:MaxPayoutsPerBatch must be 1 to 10000 (was {MaxPayoutsPerBatch}).");
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
