using CryptoPay.Chains.Networks;

namespace CryptoPay.Grains.Catalog;

/// <summary>A currency an invoice can be priced in: fiat or a crypto asset, with its decimal places.</summary>
public sealed record CurrencyInfo(string Code, int Decimals, bool IsFiat);

/// <summary>An asset on a network, as a customer pays it (<c>usdt_tron</c>): decimals of its smallest unit, confirmations, minimum.</summary>
public sealed record PaymentMethodInfo(string Id, string Asset, string Network, int Decimals, int Confirmations, decimal Minimum)
{
    public bool IsSandbox => Network == Chains.Networks.Network.Sandbox.Id;
}

/// <summary>The currencies, networks and payment methods the gateway knows.</summary>
public static class Assets
{
    public static IReadOnlyList<CurrencyInfo> Currencies { get; } =
    [
        new("USD", 2, true), new("EUR", 2, true), new("GBP", 2, true), new("CHF", 2, true),
        new("CAD", 2, true), new("AUD", 2, true), new("JPY", 0, true),
        new("BTC", 8, false), new("LTC", 8, false), new("ETH", 18, false), new("BNB", 18, false),
        new("USDT", 6, false), new("USDC", 6, false),
    ];

    /// <summary>Live methods run on real chains; sandbox methods (test mode) on the simulated sandbox chain.</summary>
    public static IReadOnlyList<PaymentMethodInfo> Methods { get; } =
    [
        Live("BTC", "btc", 8, 0.0001m), Live("LTC", "ltc", 8, 0.001m), Live("ETH", "eth", 18, 0.001m),
        Live("USDT", "eth", 6, 1m), Live("USDC", "eth", 6, 1m), Live("BNB", "bsc", 18, 0.001m),
        Live("USDT", "bsc", 18, 1m), Live("USDC", "bsc", 18, 1m), Live("USDT", "tron", 6, 1m),
        Live("BTC", "sandbox", 8, 0.00000001m), Live("LTC", "sandbox", 8, 0.00000001m), Live("ETH", "sandbox", 18, 0.000001m),
        Live("BNB", "sandbox", 18, 0.000001m), Live("USDT", "sandbox", 6, 0.01m), Live("USDC", "sandbox", 6, 0.01m),
    ];

    public static IReadOnlyList<string> NetworkIds => Network.Ids;

    public static CurrencyInfo? FindCurrency(string? code) =>
        code is null ? null : Currencies.FirstOrDefault(c => string.Equals(c.Code, code, StringComparison.OrdinalIgnoreCase));

    /// <summary>The decimals amounts in a merchant's reporting currency are kept to (2 for a code not listed).</summary>
    public static int ReportingDecimals(string code) => FindCurrency(code)?.Decimals ?? 2;

    public static PaymentMethodInfo? FindMethod(string? id) =>
        id is null ? null : Methods.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase));

    /// <summary>The methods a mode may use: test mode pays on the sandbox chain only, live mode never does.</summary>
    public static IEnumerable<PaymentMethodInfo> MethodsFor(bool testMode) => Methods.Where(m => m.IsSandbox == testMode);

    private static PaymentMethodInfo Live(string asset, string network, int decimals, decimal minimum) =>
        new($"{asset.ToLowerInvariant()}_{network}", asset, network, decimals, Network.Get(network).DefaultConfirmations, minimum);
}
