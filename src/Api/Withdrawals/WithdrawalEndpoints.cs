using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using CryptoPay.Api.Access;
using CryptoPay.Api.Docs;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Invoices;
using CryptoPay.Api.Json;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Merchants;
using CryptoPay.Chains.Networks;
using CryptoPay.Grains.Settlements;
using CryptoPay.Grains.Withdrawals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace CryptoPay.Api.Withdrawals;

/// <summary>The body of <c>POST /v1/withdrawals</c>.</summary>
public sealed record CreateWithdrawalRequest(
    [property: Description("The asset's code: BTC, LTC, ETH, BNB, USDT, USDC.")] string Asset,
    [property: Description("Exact decimal string (a JSON number is accepted too): what the recipient gets, at least the asset's minimum, at most its decimals.")] string Amount,
    [property: Description("btc, ltc, eth, bsc or tron; may be left out with beneficiary_id (then the beneficiary's), else must match it.")] string? Network = null,
    [property: Description("The destination, validated for the network; or give beneficiary_id, not both.")] string? Address = null,
    [property: Description("A saved beneficiary of this merchant and mode: its address is used.")] Guid? BeneficiaryId = null,
    [property: Description("Your reference for this payout; at most 200 characters.")] string? Reference = null,
    [property: Description("Your data, returned as given: at most 50 keys and 8 KiB.")] Dictionary<string, object>? Metadata = null);

/// <summary>The body of <c>POST /v1/admin/withdrawals/{id}/reject</c>.</summary>
public sealed record RejectWithdrawalRequest([property: Description("Why; at most 500 characters, shown to the merchant.")] string Reason);

/// <summary>The body of <c>POST /v1/admin/withdrawals/{id}/record-payout</c>.</summary>
public sealed record RecordPayoutRequest([property: Description("The transaction that paid the withdrawal: 64 hex digits (0x-prefixed on EVM networks).")] string Txid);

/// <summary>Withdrawals: request (reserving the balance), read, list, cancel; and the operator's review.</summary>
public static class WithdrawalEndpoints
{
    public static IEndpointRouteBuilder MapWithdrawals(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/withdrawals").WithTags("Withdrawals");
        group.MapPost("", CreateAsync).ForMerchant(ApiKeyScopes.WithdrawalsWrite, idempotent: true).Accepts<CreateWithdrawalRequest>("application/json", "*/*")
            .WithSummary("Request a withdrawal")
            .WithDescription("Reserves amount + network fee on the live balance of the asset (available → reserved) and queues the withdrawal; " +
                "above the configured USD value (default 500) it waits in review for an operator. The recipient gets exactly `amount`; " +
                "the balance is debited `total_debit` = amount + fee. Live keys only; the key needs the withdrawals:write scope. " +
                "It is paid on chain in the network's next settlement batch (GET /v1/settlements/{id}); once completed, GET /v1/proofs/{id} proves the payout.")
            .RequestExample("""
                {"asset": "USDT", "network": "tron", "amount": "25.00", "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
                 "reference": "payout-77", "metadata": {"invoice": "inv-9"}}
                """)
            .Problem(StatusCodes.Status400BadRequest, "INSUFFICIENT_BALANCE: available does not cover amount + fee; AMOUNT_BELOW_MINIMUM; INVALID_ADDRESS: not an address of the network; " +
                "UNSUPPORTED_NETWORK: no such asset on the network; WITHDRAWALS_DISABLED_IN_SANDBOX: a test-mode key.")
            .Problem(StatusCodes.Status404NotFound, "NOT_FOUND: the beneficiary_id is none of this merchant's.");
        group.MapGet("", ListAsync).ForMerchant(ApiKeyScopes.BalancesRead)
            .WithSummary("List withdrawals")
            .WithDescription("The key's withdrawals, newest first, one page at a time.")
            .Query("page", "Page number.", "integer", minimum: 1, @default: 1)
            .Query("page_size", "Withdrawals per page.", "integer", minimum: 1, maximum: 100, @default: 20)
            .Query("status", "Only withdrawals in this status.", values: [.. WithdrawalProjection.Listed.Select(WithdrawalProjection.Name)])
            .Query("asset", "Only withdrawals from this balance (USDT-TRON, BTC: as GET /v1/balances names it).");
        group.MapGet("/{id}", GetAsync).ForMerchant(ApiKeyScopes.BalancesRead)
            .WithSummary("Get a withdrawal")
            .WithDescription("The withdrawal with its amount, fee, total debit, status and destination.");
        group.MapPost("/{id}/cancel", CancelAsync).ForMerchant(ApiKeyScopes.WithdrawalsWrite, idempotent: true)
            .WithSummary("Cancel a withdrawal")
            .WithDescription("Cancels a withdrawal still in review or queued; its reservation returns to the available balance.")
            .Problem(StatusCodes.Status409Conflict, "INVALID_STATE_TRANSITION: the withdrawal is processing or final.");

        var admin = endpoints.MapGroup("/v1/admin/withdrawals").WithTags("Withdrawals");
        admin.MapGet("", AdminListAsync).ForAdmin()
            .WithSummary("List every merchant's withdrawals")
            .WithDescription("Operator, with the admin key: withdrawals of all merchants (live), newest first; `status=review` is the review queue.")
            .Query("page", "Page number.", "integer", minimum: 1, @default: 1)
            .Query("page_size", "Withdrawals per page.", "integer", minimum: 1, maximum: 100, @default: 20)
            .Query("status", "Only withdrawals in this status.", values: [.. WithdrawalProjection.Listed.Select(WithdrawalProjection.Name)])
            .Query("asset", "Only withdrawals from this balance (USDT-TRON, BTC).");
        admin.MapPost("/{id}/approve", ApproveAsync).ForAdmin()
            .WithSummary("Approve a withdrawal")
            .WithDescription("Operator, with the admin key: a withdrawal in review is queued for payout.")
            .Problem(StatusCodes.Status409Conflict, "INVALID_STATE_TRANSITION: the withdrawal is not in review.");
        admin.MapPost("/{id}/reject", RejectAsync).ForAdmin().Accepts<RejectWithdrawalRequest>("application/json", "*/*")
            .WithSummary("Reject a withdrawal")
            .WithDescription("Operator, with the admin key: a withdrawal in review (or queued) is rejected with a reason; its reservation returns to the merchant's available balance.")
            .Problem(StatusCodes.Status409Conflict, "INVALID_STATE_TRANSITION: the withdrawal is processing or final.");
        admin.MapPost("/{id}/record-payout", RecordPayoutAsync).ForAdmin().Accepts<RecordPayoutRequest>("application/json")
            .WithSummary("Record a payout made by hand")
            .WithDescription("Operator, with the admin key: on a network paid by hand (tron, or one without a payout wallet), a queued withdrawal is completed " +
                "with the txid of the transfer the operator made; the reservation leaves the balance (amount paid, fee to the operator). " +
                "Networks with a payout wallet are paid in settlement batches instead.")
            .RequestExample("""{"txid": "7c3e0f0c5c0f2b8a1d9e4f6a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c"}""")
            .Problem(StatusCodes.Status400BadRequest, "VALIDATION_FAILED: txid is not a transaction id (64 hex digits).")
            .Problem(StatusCodes.Status409Conflict, "INVALID_STATE_TRANSITION: the withdrawal is not queued (or was recorded with another txid), or its network is paid in settlement batches.");
        return endpoints;
    }

    /// <summary>The caller's withdrawal, or null: another merchant's or mode's does not exist for it.</summary>
    internal static async Task<WithdrawalState?> FindAsync(IGrainFactory grains, MerchantCaller caller, string id) =>
        Guid.TryParse(id, out var withdrawalId) && await grains.GetGrain<IWithdrawalGrain>(withdrawalId).Get() is { } withdrawal &&
        withdrawal.Spec!.MerchantId == caller.MerchantId && withdrawal.Spec.Mode == caller.Mode
            ? withdrawal
            : null;

    internal static async Task<Results<Created<WithdrawalResponse>, ProblemHttpResult>> CreateAsync(HttpContext context, WithdrawalRequests requests)
    {
        // Before the body is read: no test-mode request can withdraw, however it is written.
        if (SandboxRefusal(context.Caller()) is { } sandbox)
        {
            return sandbox;
        }

        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var (withdrawal, refused) = await RequestAsync(context, body, requests);
        return withdrawal is null ? refused! : TypedResults.Created($"/v1/withdrawals/{withdrawal.Spec!.Id}", withdrawal.ToResponse());
    }

    /// <summary>The refusal of every withdrawal a test-mode key asks for; null for a live key.</summary>
    internal static ProblemHttpResult? SandboxRefusal(MerchantCaller caller) => caller.Mode == Mode.Test
        ? ApiProblem.Create(StatusCodes.Status400BadRequest, ErrorCodes.WithdrawalsDisabledInSandbox,
            "Withdrawals are disabled in test mode: sandbox balances cannot leave the sandbox. Use a live key.")
        : null;

    /// <summary>
    /// Requests the caller's withdrawal from a body in the <c>/v1</c> shape (profiles compose that body too): the withdrawal,
    /// or the problem that refused it. The id comes from the request's Idempotency-Key, if any.
    /// </summary>
    internal static async Task<(WithdrawalState? Withdrawal, ProblemHttpResult? Problem)> RequestAsync(HttpContext context, JsonBody body, WithdrawalRequests requests) =>
        Parse(body) is { } order ? await RequestAsync(context, requests, order) : (null, body.Problem());

    /// <summary>
    /// Requests a withdrawal for the caller from a parsed order (id derived from the request's Idempotency-Key, if any):
    /// the withdrawal, or the problem that refused it. Every entry point that requests withdrawals comes through here.
    /// </summary>
    internal static async Task<(WithdrawalState? Withdrawal, ProblemHttpResult? Problem)> RequestAsync(HttpContext context, WithdrawalRequests requests, WithdrawalOrder order)
    {
        var caller = context.Caller();
        var id = context.IdempotentId("withdrawal") ?? Guid.NewGuid();
        var fingerprint = context.IdempotentRequest()?.Fingerprint;
        var result = await requests.RequestAsync(order, caller.MerchantId, caller.Mode, id, fingerprint, context.RequestAborted);
        if (result.Withdrawal is { } withdrawal)
        {
            return (withdrawal, null);
        }

        var refusal = result.Refusal!;
        return (null, refusal.Reason switch
        {
            WithdrawalRefusalReason.SandboxDisabled => ApiProblem.Create(StatusCodes.Status400BadRequest, ErrorCodes.WithdrawalsDisabledInSandbox, refusal.Message),
            WithdrawalRefusalReason.BeneficiaryNotFound => ApiProblem.NotFound("beneficiary"),
            WithdrawalRefusalReason.UnsupportedNetwork => ApiProblem.Invalid(refusal.Field!, refusal.Message, ErrorCodes.UnsupportedNetwork),
            WithdrawalRefusalReason.InvalidAmount => ApiProblem.Invalid(refusal.Field!, refusal.Message, ErrorCodes.InvalidAmountFormat),
            WithdrawalRefusalReason.AmountBelowMinimum => ApiProblem.Invalid(refusal.Field!, refusal.Message, ErrorCodes.AmountBelowMinimum),
            WithdrawalRefusalReason.InvalidAddress => ApiProblem.Invalid(refusal.Field!, refusal.Message, ErrorCodes.InvalidAddress),
            WithdrawalRefusalReason.InsufficientBalance => ApiProblem.Create(StatusCodes.Status400BadRequest, ErrorCodes.InsufficientBalance, refusal.Message),
            _ => throw new InvalidOperationException($"Unknown refusal {refusal.Reason}."),
        });
    }

    private static WithdrawalOrder? Parse(JsonBody body)
    {
        var asset = body.String("asset", 10, required: true);
        var network = body.String("network", 20);
        var amount = body.Decimal("amount", required: true, formatCode: ErrorCodes.InvalidAmountFormat);
        var (address, beneficiaryId) = Destination(body);
        var reference = body.Text("reference", 200);
        var metadata = Metadata(body);
        if (address is not null && network is null && body.IsValid)
        {
            body.Fail("network", "is required with an address.");
        }

        if (amount is <= 0)
        {
            body.Fail("amount", "must be greater than 0.", ErrorCodes.InvalidAmountRange);
        }

        return body.IsValid ? new WithdrawalOrder(asset!.ToUpperInvariant(), network?.ToLowerInvariant(), amount!.Value, address, beneficiaryId, reference, metadata) : null;
    }

    /// <summary>
    /// Where a payout goes: <c>address</c> or <c>beneficiary_id</c> (a UUID), exactly one of them; a failure is recorded
    /// on <paramref name="body"/>. Withdrawals and automatic settlement settings read it alike.
    /// </summary>
    internal static (string? Address, Guid? BeneficiaryId) Destination(JsonBody body)
    {
        var address = body.String("address", 128);
        var beneficiary = body.String("beneficiary_id", 64);
        Guid? beneficiaryId = null;
        if (beneficiary is not null)
        {
            if (Guid.TryParse(beneficiary, out var parsed))
            {
                beneficiaryId = parsed;
            }
            else
            {
                body.Fail("beneficiary_id", "must be a beneficiary id (a UUID).");
            }
        }

        if (address is not null && beneficiary is not null)
        {
            body.Fail("address", "give address or beneficiary_id, not both.");
        }
        else if (address is null && beneficiary is null && body.IsValid)
        {
            body.Fail("address", "is required (or give beneficiary_id).");
        }

        return (address, beneficiaryId);
    }

    internal static string? Metadata(JsonBody body)
    {
        if (body.Element("metadata", JsonValueKind.Object) is not { } meta)
        {
            return null;
        }

        var metadata = meta.GetRawText();
        if (meta.EnumerateObject().Count() > 50)
        {
            body.Fail("metadata", "must have at most 50 keys.");
        }
        else if (System.Text.Encoding.UTF8.GetByteCount(metadata) > 8 * 1024)
        {
            body.Fail("metadata", "must be at most 8 KiB serialised.");
        }

        return metadata;
    }

    private static async Task<Results<Ok<WithdrawalResponse>, ProblemHttpResult>> GetAsync(string id, HttpContext context, IGrainFactory grains) =>
        await FindAsync(grains, context.Caller(), id) is { } withdrawal ? TypedResults.Ok(withdrawal.ToResponse()) : ApiProblem.NotFound("withdrawal");

    private static async Task<Results<Ok<WithdrawalResponse>, ProblemHttpResult>> CancelAsync(string id, HttpContext context, IGrainFactory grains) =>
        await FindAsync(grains, context.Caller(), id) is { } withdrawal
            ? TypedResults.Ok((await grains.GetGrain<IWithdrawalGrain>(withdrawal.Spec!.Id).Cancel()).ToResponse())
            : ApiProblem.NotFound("withdrawal");

    private static Task<Results<Ok<WithdrawalListResponse>, ProblemHttpResult>> ListAsync(HttpContext context, IWithdrawalQuery query)
    {
        var caller = context.Caller();
        return ListForAsync(context, query, caller.MerchantId, caller.Mode);
    }

    private static Task<Results<Ok<WithdrawalListResponse>, ProblemHttpResult>> AdminListAsync(HttpContext context, IWithdrawalQuery query) =>
        ListForAsync(context, query, merchantId: null, Mode.Live);

    private static async Task<Results<Ok<WithdrawalListResponse>, ProblemHttpResult>> ListForAsync(HttpContext context, IWithdrawalQuery query, Guid? merchantId, Mode mode)
    {
        var q = context.Request.Query;
        var errors = new Dictionary<string, string[]>();
        WithdrawalStatus? status = null;
        if (q["status"].ToString() is { Length: > 0 } statusText)
        {
            status = WithdrawalProjection.Listed.Cast<WithdrawalStatus?>().FirstOrDefault(s => WithdrawalProjection.Name(s!.Value) == statusText);
            if (status is null)
            {
                errors["status"] = [$"'{statusText}' is not a withdrawal status."];
            }
        }

        var page = Routing.QueryNumbers.Read(q, "page", 1, Routing.QueryNumbers.MaxPage, errors);
        var pageSize = Routing.QueryNumbers.Read(q, "page_size", 20, 100, errors);
        if (errors.Count > 0)
        {
            return ApiProblem.Validation(ErrorCodes.ValidationFailed, errors);
        }

        var asset = q["asset"].ToString();
        var result = await query.ListAsync(new WithdrawalFilter
        {
            MerchantId = merchantId,
            Mode = mode,
            Status = status,
            Asset = asset.Length == 0 ? null : asset.ToUpperInvariant(),
            Page = page,
            PageSize = pageSize,
        }, context.RequestAborted);
        return TypedResults.Ok(new WithdrawalListResponse(
            [.. result.Items.Select(w => w.ToResponse())],
            new PaginationResponse(page, pageSize, result.Total, (long)page * pageSize < result.Total)));
    }

    private static async Task<Results<Ok<WithdrawalResponse>, ProblemHttpResult>> ApproveAsync(string id, IGrainFactory grains) =>
        await AdminFindAsync(grains, id) is { } withdrawal
            ? TypedResults.Ok((await grains.GetGrain<IWithdrawalGrain>(withdrawal.Spec!.Id).Approve()).ToResponse())
            : ApiProblem.NotFound("withdrawal");

    private static async Task<Results<Ok<WithdrawalResponse>, ProblemHttpResult>> RejectAsync(string id, HttpContext context, IGrainFactory grains)
    {
        var (reason, problem) = await JsonBody.ReadReasonAsync(context.Request);
        if (problem is not null)
        {
            return problem;
        }

        return await AdminFindAsync(grains, id) is { } withdrawal
            ? TypedResults.Ok((await grains.GetGrain<IWithdrawalGrain>(withdrawal.Spec!.Id).Reject(reason!)).ToResponse())
            : ApiProblem.NotFound("withdrawal");
    }

    private static async Task<Results<Ok<WithdrawalResponse>, ProblemHttpResult>> RecordPayoutAsync(string id, HttpContext context, IGrainFactory grains, PayoutWallets wallets)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var txid = body.String("txid", 66, required: true);
        var hex = txid is not null && txid.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? txid[2..] : txid;
        if (hex is not null && (hex.Length != 64 || !hex.All(char.IsAsciiHexDigit)))
        {
            body.Fail("txid", "must be a transaction id: 64 hex digits.");
        }

        if (!body.IsValid)
        {
            return body.Problem();
        }

        if (await AdminFindAsync(grains, id) is not { Spec: { } spec })
        {
            return ApiProblem.NotFound("withdrawal");
        }

        if (wallets.For(spec.Network) is not null)
        {
            return ApiProblem.Create(StatusCodes.Status409Conflict, ErrorCodes.InvalidStateTransition,
                $"Withdrawals on {spec.Network} are paid by the payout wallet in settlement batches, not recorded by hand.");
        }

        var normalized = Network.Get(spec.Network).Family == NetworkFamily.Evm ? "0x" + hex!.ToLowerInvariant() : hex!.ToLowerInvariant();
        return TypedResults.Ok((await grains.GetGrain<IWithdrawalGrain>(spec.Id).RecordManualPayout(normalized)).ToResponse());
    }

    private static async Task<WithdrawalState?> AdminFindAsync(IGrainFactory grains, string id) =>
        Guid.TryParse(id, out var withdrawalId) ? await grains.GetGrain<IWithdrawalGrain>(withdrawalId).Get() : null;
}
