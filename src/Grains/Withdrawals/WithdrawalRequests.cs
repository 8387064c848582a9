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

/// <summary>
/// What the merchant asks for, parsed; <see cref="Network"/> may be left out when a beneficiary names it.
/// <see cref="PaymentIds"/>: the deposits an automatic settlement pays out (none for a withdrawal asked for by hand).
/// </summary>
public sealed record WithdrawalOrder(
    string AssetCode, string? Network, decimal Amount, string? Address, Guid? BeneficiaryId, string? Reference, string? MetadataJson, IReadOnlyList<string>? PaymentIds = null);

public sealed record WithdrawalRefusal(WithdrawalRefusalReason Reason, string? Field, string Message);

/// <summary>A checked payout destination: the live asset (<see cref="Asset"/> as balances name it), its withdrawal settings and the normalised address.</summary>
public sealed record PayoutDestination(PaymentMethodInfo Method, string Asset, WithdrawalAssetOptions Settings, string Address, Guid? BeneficiaryId);

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

        var (destination, refusal) = await DestinationAsync(order.AssetCode, order.Network, order.Address, order.BeneficiaryId, merchantId, mode);
        if (destination is null)
        {
            return new WithdrawalRequestResult(null, refusal);
        }

        var (method, label, settings) = (destination.Method, destination.Asset, destination.Settings);
        if (Amounts.Scale(order.Amount) > method.Decimals)
        {
            return WithdrawalRequestResult.Refused(WithdrawalRefusalReason.InvalidAmount, "amount", $"{label} has at most {method.Decimals} decimals.");
        }

        if (order.Amount < settings.Minimum)
        {
            return WithdrawalRequestResult.Refused(WithdrawalRefusalReason.AmountBelowMinimum, "amount",
                string.Create(CultureInfo.InvariantCulture, $"must be at least {settings.Minimum} {label} (the minimum withdrawal)."));
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
            Address = destination.Address,
            BeneficiaryId = order.BeneficiaryId,
            Reference = order.Reference,
            MetadataJson = order.MetadataJson,
            UsdValue = usd,
            // Without a fresh rate the value is unknown: an operator looks at it rather than letting it through.
            NeedsReview = usd is not { } value || value > options.Value.ReviewAboveUsd,
            RequestFingerprint = requestFingerprint,
            CreatedAt = now,
            PaymentIds = [.. order.PaymentIds ?? []],
        };
        var result = await grains.GetGrain<IWithdrawalGrain>(id).Create(spec);
        return result.Withdrawal is { } withdrawal
            ? new WithdrawalRequestResult(withdrawal, null)
            : WithdrawalRequestResult.Refused(WithdrawalRefusalReason.InsufficientBalance, "amount",
                string.Create(CultureInfo.InvariantCulture, $"the available {label} balance does not cover {order.Amount} + {settings.Fee} network fee."));
    }

    /// <summary>
    /// Where a payout of <paramref name="assetCode"/> goes: the live asset on <paramref name="network"/> (or the
    /// beneficiary's network), its withdrawal settings, and the address validated for the network (or the saved
    /// beneficiary's); or why it can go nowhere. Withdrawals and automatic settlement settings both check this way.
    /// </summary>
    public async Task<(PayoutDestination? Destination, WithdrawalRefusal? Refusal)> DestinationAsync(
        string assetCode, string? network, string? address, Guid? beneficiaryId, Guid merchantId, Mode mode)
    {
        static (PayoutDestination?, WithdrawalRefusal?) Refused(WithdrawalRefusalReason reason, string field, string message) =>
            (null, new WithdrawalRefusal(reason, field, message));

        if (beneficiaryId is { } id)
        {
            if (await grains.GetGrain<IBeneficiariesGrain>(BeneficiariesGrain.KeyFor(merchantId, mode)).Get(id) is not { } beneficiary)
            {
                return Refused(WithdrawalRefusalReason.BeneficiaryNotFound, "beneficiary_id", "No beneficiary with that id.");
            }

            if (network is not null && network != beneficiary.Network)
            {
                return Refused(WithdrawalRefusalReason.UnsupportedNetwork, "network", $"is '{network}', but the beneficiary's address is on '{beneficiary.Network}'.");
            }

            network = beneficiary.Network;
            address = beneficiary.Address;
        }

        var method = Assets.Methods.FirstOrDefault(m => !m.IsSandbox && m.Network == network && string.Equals(m.Asset, assetCode, StringComparison.OrdinalIgnoreCase));
        if (method is null)
        {
            return Refused(WithdrawalRefusalReason.UnsupportedNetwork, "network",
                $"{assetCode.ToUpperInvariant()} cannot be withdrawn on '{network}'; live assets: {string.Join(", ", Assets.Methods.Where(m => !m.IsSandbox).Select(m => $"{m.Asset} on {m.Network}"))}.");
        }

        var label = LedgerKeys.AssetLabel(method.Asset, method.Network);
        if (options.Value.For(label) is not { } settings)
        {
            return Refused(WithdrawalRefusalReason.UnsupportedNetwork, "asset", $"withdrawals of {label} are not configured on this gateway.");
        }

        var (normalized, problem) = ValidateAddress(method.Network, address);
        return normalized is null
            ? Refused(WithdrawalRefusalReason.InvalidAddress, beneficiaryId is null ? "address" : "beneficiary_id", problem!)
            : (new PayoutDestination(method, label, settings, normalized, beneficiaryId), null);
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
