using System.Globalization;
using CryptoPay.Chains.Addresses;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Deposits;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Rates;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans;
using Network = CryptoPay.Chains.Networks.Network;

namespace CryptoPay.Grains.Withdrawals;

public enum WithdrawalRefusalReason
{
    /// <summary>Test-mode keys cannot withdraw (400 WITHDRAWALS_DISABLED_IN_SANDBOX).</summary>
    SandboxDisabled,

    /// <summary>No live asset on that network, or no withdrawal settings for it.</summary>
    UnsupportedNetwork,

    /// <summary>More decimals than the asset has.</summary>
    InvalidAmount,

    AmountBelowMinimum,

    InvalidAddress,

    /// <summary>The beneficiary_id is none of this merchant's (404).</summary>
    BeneficiaryNotFound,

    InsufficientBalance,
}

/// <summary>What the merchant asks for, parsed; <see cref="Network"/> may be left out when a beneficiary names it.</summary>
public sealed record WithdrawalOrder(string AssetCode, string? Network, decimal Amount, string? Address, Guid? BeneficiaryId, string? Reference, string? MetadataJson);

public sealed record WithdrawalRefusal(WithdrawalRefusalReason Reason, string? Field, string Message);

public sealed record WithdrawalRequestResult(WithdrawalState? Withdrawal, WithdrawalRefusal? Refusal)
{
    public static WithdrawalRequestResult Refused(WithdrawalRefusalReason reason, string? field, string message) =>
        new(null, new WithdrawalRefusal(reason, field, message));
}

/// <summary>
/// The one way withdrawals are requested: checks mode, asset, minimum, destination (an address validated for the
/// network, or a saved beneficiary), prices the amount in USD to decide on review, and asks the withdrawal grain to
/// reserve amount + fee. Everything that can refuse the request does so before the balance is touched.
/// </summary>
public sealed class WithdrawalRequests(
    IGrainFactory grains, IRateProvider rates, IOptions<RateOptions> rateOptions, IOptions<WithdrawalOptions> options, LiveNetworks live,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider time)
{
    public async Task<WithdrawalRequestResult> RequestAsync(WithdrawalOrder order, Guid merchantId, Mode mode, Guid id, string? requestFingerprint, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(order);
        if (mode == Mode.Test)
        {
            return WithdrawalRequestResult.Refused(WithdrawalRefusalReason.SandboxDisabled, null,
                "Withdrawals are disabled in test mode: sandbox balances cannot leave the sandbox. Use a live key.");
        }

        var network = order.Network;
        var address = order.Address;
        if (order.BeneficiaryId is { } beneficiaryId)
        {
            if (await grains.GetGrain<IBeneficiariesGrain>(BeneficiariesGrain.KeyFor(merchantId, mode)).Get(beneficiaryId) is not { } beneficiary)
            {
                return WithdrawalRequestResult.Refused(WithdrawalRefusalReason.BeneficiaryNotFound, "beneficiary_id", "No beneficiary with that id.");
            }

            if (network is not null && network != beneficiary.Network)
            {
                return WithdrawalRequestResult.Refused(WithdrawalRefusalReason.UnsupportedNetwork, "network",
                    $"is '{network}', but the beneficiary's address is on '{beneficiary.Network}'.");
            }

            network = beneficiary.Network;
            address = beneficiary.Address;
        }

        var method = Assets.Methods.FirstOrDefault(m => !m.IsSandbox && m.Network == network && string.Equals(m.Asset, order.AssetCode, StringComparison.OrdinalIgnoreCase));
        if (method is null)
        {
            return WithdrawalRequestResult.Refused(WithdrawalRefusalReason.UnsupportedNetwork, "network",
                $"{order.AssetCode.ToUpperInvariant()} cannot be withdrawn on '{network}'; live assets: {string.Join(", ", Assets.Methods.Where(m => !m.IsSandbox).Select(m => $"{m.Asset} on {m.Network}"))}.");
        }

        var label = LedgerKeys.AssetLabel(method.Asset, method.Network);
        if (options.Value.For(label) is not { } settings)
        {
            return WithdrawalRequestResult.Refused(WithdrawalRefusalReason.UnsupportedNetwork, "asset", $"withdrawals of {label} are not configured on this gateway.");
        }

        if (Amounts.Scale(order.Amount) > method.Decimals)
        {
            return WithdrawalRequestResult.Refused(WithdrawalRefusalReason.InvalidAmount, "amount", $"{label} has at most {method.Decimals} decimals.");
        }

        if (order.Amount < settings.Minimum)
        {
            return WithdrawalRequestResult.Refused(WithdrawalRefusalReason.AmountBelowMinimum, "amount",
                string.Create(CultureInfo.InvariantCulture, $"must be at least {settings.Minimum} {label} (the minimum withdrawal)."));
        }

        var validation = AddressValidator.Validate(live.Find(method.Network)?.Network ?? Network.Get(method.Network), address);
        if (!validation.IsValid)
        {
            return WithdrawalRequestResult.Refused(WithdrawalRefusalReason.InvalidAddress, order.BeneficiaryId is null ? "address" : "beneficiary_id",
                $"is not a valid {method.Network} address: {validation.Reason}.");
        }

        var now = time.GetUtcNow();
        var usd = await UsdValueAsync(method.Asset, order.Amount, now, ct);
        var spec = new WithdrawalSpec
        {
            Id = id,
            MerchantId = merchantId,
            Mode = mode,
            AssetCode = method.Asset,
            Network = method.Network,
            Asset = label,
            Decimals = method.Decimals,
            AmountUnits = Amounts.ToUnits(order.Amount, method.Decimals),
            FeeUnits = Amounts.ToUnits(settings.Fee, method.Decimals),
            Address = validation.NormalizedAddress!,
            BeneficiaryId = order.BeneficiaryId,
            Reference = order.Reference,
            MetadataJson = order.MetadataJson,
            UsdValue = usd,
            // Without a fresh rate the value is unknown: an operator looks at it rather than letting it through.
            NeedsReview = usd is not { } value || value > options.Value.ReviewAboveUsd,
            RequestFingerprint = requestFingerprint,
            CreatedAt = now,
        };
        var result = await grains.GetGrain<IWithdrawalGrain>(id).Create(spec);
        return result.Withdrawal is { } withdrawal
            ? new WithdrawalRequestResult(withdrawal, null)
            : WithdrawalRequestResult.Refused(WithdrawalRefusalReason.InsufficientBalance, "amount",
                string.Create(CultureInfo.InvariantCulture, $"the available {label} balance does not cover {order.Amount} + {settings.Fee} network fee."));
    }

    /// <summary>Why a beneficiary of <paramref name="mode"/> cannot be on <paramref name="network"/>, or null: live networks for live keys, the sandbox for test keys.</summary>
    public static string? NetworkProblem(string network, Mode mode) =>
        Network.Ids.Contains(network) && (network == Network.Sandbox.Id) == (mode == Mode.Test)
            ? null
            : mode == Mode.Test
                ? "test-mode beneficiaries are on the sandbox network."
                : $"'{network}' is not a live network; one of {string.Join(", ", Network.Ids.Where(n => n != Network.Sandbox.Id))}.";

    /// <summary>The address normalised for the network (the configured chain's, else mainnet), or why it is none.</summary>
    public (string? Address, string? Problem) ValidateAddress(string network, string? address)
    {
        var validation = AddressValidator.Validate(live.Find(network)?.Network ?? Network.Get(network), address);
        return validation.IsValid ? (validation.NormalizedAddress, null) : (null, $"is not a valid {network} address: {validation.Reason}.");
    }

    private async Task<decimal?> UsdValueAsync(string asset, decimal amount, DateTimeOffset now, CancellationToken ct)
    {
        var snapshot = await rates.GetAsync(ct);
        return snapshot is not null && now - snapshot.AsOf <= rateOptions.Value.MaxAge && snapshot.Price(asset, "USD") is { } price ? amount * price : null;
    }
}
