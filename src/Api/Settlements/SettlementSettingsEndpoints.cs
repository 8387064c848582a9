using System.ComponentModel;
using CryptoPay.Api.Access;
using CryptoPay.Api.Docs;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Json;
using CryptoPay.Api.Withdrawals;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.AutoSettlement;
using CryptoPay.Grains.Catalog;
using CryptoPay.Grains.Ledger;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Withdrawals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace CryptoPay.Api.Settlements;

/// <summary>The body of <c>PUT /v1/settlement-settings/{asset}</c>.</summary>
public sealed record PutSettlementSettingRequest(
    [property: Description("hourly, daily or weekly (UTC: on the hour, at midnight, Mondays at midnight).")] string Schedule,
    [property: Description("The asset's network (btc, ltc, eth, bsc, tron); may be left out, else must be the asset's.")] string? Network = null,
    [property: Description("The destination, validated for the network; or give beneficiary_id, not both.")] string? Address = null,
    [property: Description("A saved beneficiary of this merchant: its address is copied into the setting.")] Guid? BeneficiaryId = null,
    [property: Description("Exact decimal string: pay out only when at least this much (and the asset's withdrawal minimum) is available after the fee.")] string? Minimum = null);

/// <summary>What a window of an automatic settlement did.</summary>
public sealed record SettlementRunResponse(
    [property: Description("When the window ran (UTC).")] DateTimeOffset RanAt,
    [property: Description("requested: a withdrawal was requested; below_minimum: nothing to pay; refused: the withdrawal was refused (see reason).")] string Outcome,
    [property: Description("The withdrawal requested (GET /v1/withdrawals/{id}); its payment_ids are the deposits it pays out.")] Guid? WithdrawalId,
    string? Reason);

/// <summary>An automatic settlement setting of one live balance.</summary>
public sealed record SettlementSettingResponse(
    [property: Description("The balance paid out, as GET /v1/balances names it (LTC, USDT-ETH).")] string Asset,
    string Network,
    [property: Description("The destination, normalised.")] string Address,
    Guid? BeneficiaryId,
    [property: Description("hourly, daily or weekly.")] string Schedule,
    [property: Description("The merchant's minimum payout; null: the asset's withdrawal minimum alone.")] string? Minimum,
    [property: Description("When the open window closes and its payout is requested.")] DateTimeOffset NextRunAt,
    [property: Description("The last window that ran; null before the first.")] SettlementRunResponse? LastRun,
    DateTimeOffset UpdatedAt);

public sealed record SettlementSettingListResponse(IReadOnlyList<SettlementSettingResponse> Items);

/// <summary>
/// Automatic settlement settings (issue 14): per live balance, a destination and a schedule; each window the available
/// balance less the withdrawal fee is requested as a withdrawal listing the deposits it pays out (payment_ids).
/// </summary>
public static class SettlementSettingsEndpoints
{
    private const string SandboxRefusal = "Automatic settlement pays out live balances only: sandbox balances cannot leave the sandbox. Use a live key.";

    public static IEndpointRouteBuilder MapSettlementSettings(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/settlement-settings").WithTags("Settlements");
        group.MapPut("/{asset}", PutAsync).ForMerchant(ApiKeyScopes.WithdrawalsWrite).Accepts<PutSettlementSettingRequest>("application/json", "*/*")
            .WithSummary("Set automatic settlement of a balance")
            .WithDescription("Saves where and how often the live balance of `asset` (as GET /v1/balances names it: LTC, USDT-ETH) is paid out. " +
                "At the end of each window the available balance, if it reaches max(minimum, the asset's withdrawal minimum) + the withdrawal fee, " +
                "is requested as a withdrawal of available − fee to the address (reference `auto-settlement`; review above the USD threshold applies), " +
                "whose payment_ids are the deposits credited to the balance since the previous payout (ledger output keys network:txid:index). " +
                "Saving again replaces the setting; a new schedule starts with the window open now.")
            .RequestExample("""{"address": "ltc1qjmxnz78nmc8nq77wuxh25n2es7rzm5c2rkk4wh", "schedule": "daily", "minimum": "0.5"}""")
            .Problem(StatusCodes.Status400BadRequest, "INVALID_ADDRESS: not an address of the asset's network; UNSUPPORTED_NETWORK: no such live asset, or a network not the asset's; " +
                "VALIDATION_FAILED: schedule missing or unknown, address and beneficiary_id both or neither; INVALID_AMOUNT_FORMAT, INVALID_AMOUNT_RANGE: minimum; " +
                "WITHDRAWALS_DISABLED_IN_SANDBOX: a test-mode key.")
            .Problem(StatusCodes.Status404NotFound, "NOT_FOUND: the beneficiary_id is none of this merchant's.");
        group.MapGet("", ListAsync).ForMerchant(ApiKeyScopes.BalancesRead)
            .WithSummary("List automatic settlement settings")
            .WithDescription("The live key's automatic settlement settings, one per balance, ordered by asset.")
            .Problem(StatusCodes.Status400BadRequest, "WITHDRAWALS_DISABLED_IN_SANDBOX: a test-mode key.");
        group.MapGet("/{asset}", GetAsync).ForMerchant(ApiKeyScopes.BalancesRead)
            .WithSummary("Get an automatic settlement setting")
            .WithDescription("The setting of one live balance, when its open window closes, and what the last window did.")
            .Problem(StatusCodes.Status400BadRequest, "WITHDRAWALS_DISABLED_IN_SANDBOX: a test-mode key.")
            .Problem(StatusCodes.Status404NotFound, "NOT_FOUND: no setting for that asset.");
        group.MapDelete("/{asset}", DeleteAsync).ForMerchant(ApiKeyScopes.WithdrawalsWrite)
            .WithSummary("Delete an automatic settlement setting")
            .WithDescription("Stops the automatic settlement of the balance; withdrawals already requested go on. A later setting lists only deposits no payout listed.")
            .Problem(StatusCodes.Status400BadRequest, "WITHDRAWALS_DISABLED_IN_SANDBOX: a test-mode key.")
            .Problem(StatusCodes.Status404NotFound, "NOT_FOUND: no setting for that asset.");
        return endpoints;
    }

    /// <summary>The live payment method whose balance is named <paramref name="asset"/> (<c>USDT-ETH</c>), or null.</summary>
    private static PaymentMethodInfo? LiveMethod(string asset) =>
        Assets.Methods.FirstOrDefault(m => !m.IsSandbox && LedgerKeys.AssetLabel(m.Asset, m.Network) == asset.ToUpperInvariant());

    private static IEnumerable<string> LiveAssets() =>
        Assets.Methods.Where(m => !m.IsSandbox).Select(m => LedgerKeys.AssetLabel(m.Asset, m.Network)).Distinct().Order(StringComparer.Ordinal);

    private static IAutoSettlementGrain Grain(IGrainFactory grains, MerchantCaller caller, string asset) =>
        grains.GetGrain<IAutoSettlementGrain>(AutoSettlementGrain.KeyFor(caller.MerchantId, caller.Mode, asset));

    private static ProblemHttpResult Sandbox() =>
        ApiProblem.Create(StatusCodes.Status400BadRequest, ErrorCodes.WithdrawalsDisabledInSandbox, SandboxRefusal);

    private static async Task<Results<Ok<SettlementSettingResponse>, ProblemHttpResult>> PutAsync(string asset, HttpContext context, IGrainFactory grains, WithdrawalRequests requests)
    {
        var caller = context.Caller();
        if (caller.Mode == Mode.Test)
        {
            return Sandbox();
        }

        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var schedule = body.String("schedule", 20, required: true);
        var network = body.String("network", 20)?.ToLowerInvariant();
        var (address, beneficiaryId) = WithdrawalEndpoints.Destination(body);
        var minimum = body.Decimal("minimum", formatCode: ErrorCodes.InvalidAmountFormat);
        var parsedSchedule = SettlementSchedules.Parse(schedule);
        if (schedule is not null && parsedSchedule is null)
        {
            body.Fail("schedule", $"must be one of {string.Join(", ", SettlementSchedules.All.Select(SettlementSchedules.Name))}.");
        }

        if (minimum is < 0)
        {
            body.Fail("minimum", "must not be negative.", ErrorCodes.InvalidAmountRange);
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        if (LiveMethod(asset) is not { } method)
        {
            return ApiProblem.Invalid("asset", $"'{asset}' is not a live balance; one of {string.Join(", ", LiveAssets())}.", ErrorCodes.UnsupportedNetwork);
        }

        if (network is not null && network != method.Network)
        {
            return ApiProblem.Invalid("network", $"{LedgerKeys.AssetLabel(method.Asset, method.Network)} is paid out on '{method.Network}', not '{network}'.", ErrorCodes.UnsupportedNetwork);
        }

        if (minimum is { } given && Amounts.Scale(given) > method.Decimals)
        {
            return ApiProblem.Invalid("minimum", $"has at most {method.Decimals} decimals.", ErrorCodes.InvalidAmountFormat);
        }

        // The same checks as a withdrawal's destination: the live asset, its withdrawal settings, the address for the network or the saved beneficiary.
        var (destination, refusal) = await requests.DestinationAsync(method.Asset, method.Network, address, beneficiaryId, caller.MerchantId, caller.Mode);
        if (destination is null)
        {
            return refusal!.Reason switch
            {
                WithdrawalRefusalReason.BeneficiaryNotFound => ApiProblem.NotFound("beneficiary"),
                WithdrawalRefusalReason.InvalidAddress => ApiProblem.Invalid(refusal.Field!, refusal.Message, ErrorCodes.InvalidAddress),
                _ => ApiProblem.Invalid(refusal.Field!, refusal.Message, ErrorCodes.UnsupportedNetwork),
            };
        }

        var state = await Grain(grains, caller, destination.Asset).Configure(caller.MerchantId, new AutoSettlementSetting
        {
            Asset = destination.Asset,
            AssetCode = method.Asset,
            Network = method.Network,
            Address = destination.Address,
            BeneficiaryId = destination.BeneficiaryId,
            Schedule = parsedSchedule!.Value,
            MinimumUnits = Amounts.ToUnits(minimum ?? 0m, method.Decimals),
            Decimals = method.Decimals,
        });
        return TypedResults.Ok(ToResponse(state));
    }

    private static async Task<Results<Ok<SettlementSettingListResponse>, ProblemHttpResult>> ListAsync(HttpContext context, IGrainFactory grains)
    {
        var caller = context.Caller();
        if (caller.Mode == Mode.Test)
        {
            return Sandbox();
        }

        // A handful of live balances: one grain each, no projection table.
        var states = await Task.WhenAll(LiveAssets().Select(asset => Grain(grains, caller, asset).Get()));
        return TypedResults.Ok(new SettlementSettingListResponse([.. states.Where(s => s.Setting is not null).Select(ToResponse)]));
    }

    private static async Task<Results<Ok<SettlementSettingResponse>, ProblemHttpResult>> GetAsync(string asset, HttpContext context, IGrainFactory grains)
    {
        var caller = context.Caller();
        if (caller.Mode == Mode.Test)
        {
            return Sandbox();
        }

        return LiveMethod(asset) is not null && await Grain(grains, caller, asset).Get() is { Setting: not null } state
            ? TypedResults.Ok(ToResponse(state))
            : ApiProblem.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No automatic settlement setting for that asset.");
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string asset, HttpContext context, IGrainFactory grains)
    {
        var caller = context.Caller();
        if (caller.Mode == Mode.Test)
        {
            return Sandbox();
        }

        return LiveMethod(asset) is not null && await Grain(grains, caller, asset).Remove()
            ? TypedResults.NoContent()
            : ApiProblem.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No automatic settlement setting for that asset.");
    }

    private static SettlementSettingResponse ToResponse(AutoSettlementState state)
    {
        var setting = state.Setting!;
        return new SettlementSettingResponse(
            setting.Asset, setting.Network, setting.Address, setting.BeneficiaryId, SettlementSchedules.Name(setting.Schedule),
            setting.MinimumUnits.IsZero ? null : LedgerKeys.FormatUnits(setting.MinimumUnits, setting.Decimals),
            AutoSettlementGrain.NextRunAt(state)!.Value,
            state.LastRun is { } run
                ? new SettlementRunResponse(run.RanAt, Outcome(run.Outcome), run.WithdrawalId, run.Reason)
                : null,
            setting.UpdatedAt);
    }

    private static string Outcome(AutoSettlementOutcome outcome) => outcome switch
    {
        AutoSettlementOutcome.Requested => "requested",
        AutoSettlementOutcome.BelowMinimum => "below_minimum",
        _ => "refused",
    };
}
