using CryptoPay.Api.Access;
using CryptoPay.Api.Docs;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Json;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Merchants;
using CryptoPay.Grains.Settlements;
using CryptoPay.Grains.Withdrawals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace CryptoPay.Api.Settlements;

/// <summary>Settlement batches: the merchant's view of a batch paying its withdrawals; the operator's windows, views and failing a stuck batch.</summary>
public static class SettlementEndpoints
{
    public static IEndpointRouteBuilder MapSettlements(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/settlements/{id}", GetAsync).ForMerchant(ApiKeyScopes.BalancesRead).WithTags("Settlements")
            .WithSummary("Get a settlement")
            .WithDescription("A settlement batch that pays some of the key's withdrawals: status (open, broadcast, confirmed, finalized, failed), " +
                "the transaction, the network fee paid, the Merkle root committed on chain (proof_hash), and the key's own withdrawals in it with their total. " +
                "Each withdrawal names its batch in settlement_id.")
            .Problem(StatusCodes.Status404NotFound, "NOT_FOUND: no batch with that id pays a withdrawal of this key's merchant and mode.");

        endpoints.MapGet("/v1/proofs/{id}", GetProofAsync).ForMerchant(ApiKeyScopes.BalancesRead).WithTags("Settlements")
            .WithSummary("Get a proof of payout")
            .WithDescription("The proof of a completed withdrawal (its proof_id, the withdrawal's id): the entry, its Merkle branch, the batch's root and the " +
                "commitment carrying it on chain, the transaction, block hash and height, and on btc/ltc the node's gettxoutproof. " +
                "Anyone can check it with their own node: see docs/PROOFS.md.")
            .Problem(StatusCodes.Status404NotFound, "NOT_FOUND: no withdrawal of this key's merchant and mode with that id, or it is in no batch.")
            .Problem(StatusCodes.Status409Conflict, "PROOF_NOT_READY: the payout or the commitment is not in a block yet.");

        var admin = endpoints.MapGroup("/v1/admin/settlements").WithTags("Settlements");
        admin.MapPost("/run", RunAsync).ForAdmin()
            .WithSummary("Close a settlement window now")
            .WithDescription("Operator, with the admin key: opens the network's next batch with its oldest queued withdrawals now, instead of at the end of " +
                "the window (Withdrawals:SettlementInterval), and moves it as far as the node allows (claimed, signed, broadcast). " +
                "201 with the batch; 204 when no withdrawal of the network is queued.")
            .Query("network", "Required: the network whose window closes (btc, ltc, eth or bsc).")
            .Problem(StatusCodes.Status409Conflict, "SETTLEMENT_PENDING: the network's previous batch is not broadcast yet (e.g. its hot wallet is short); it is answered in the problem's settlement field.")
            .Problem(StatusCodes.Status400BadRequest, "UNSUPPORTED_NETWORK: the network has no payout wallet configured.");
        admin.MapGet("/{id}", AdminGetAsync).ForAdmin()
            .WithSummary("Get a settlement (operator)")
            .WithDescription("Operator, with the admin key: the batch with every entry and every signed transaction.");
        admin.MapPost("/{id}/fail", FailAsync).ForAdmin()
            .WithSummary("Fail a settlement not yet broadcast")
            .WithDescription("Operator, with the admin key: a batch that could not be broadcast (its hot wallet stays short) fails; its withdrawals fail and their reservations return to the merchants' available balances. " +
                "Refused once any of its transactions reached the node.")
            .Problem(StatusCodes.Status409Conflict, "INVALID_STATE_TRANSITION: the batch was broadcast or is settled.");
        return endpoints;
    }

    private static async Task<SettlementState?> FindAsync(IGrainFactory grains, string id) =>
        Guid.TryParse(id, out var settlementId) ? await grains.GetGrain<ISettlementBatchGrain>(settlementId).Get() : null;

    private static async Task<Results<Ok<SettlementResponse>, ProblemHttpResult>> GetAsync(string id, HttpContext context, IGrainFactory grains)
    {
        var caller = context.Caller();
        return await FindForCallerAsync(grains, caller, id) is { } settlement
            ? TypedResults.Ok(settlement.ToResponse(caller.MerchantId))
            : ApiProblem.NotFound("settlement");
    }

    /// <summary>The batch, or null unless it pays a withdrawal of the caller's merchant and mode (no existence oracle).</summary>
    internal static async Task<SettlementState?> FindForCallerAsync(IGrainFactory grains, MerchantCaller caller, string id) =>
        await FindAsync(grains, id) is { } settlement && settlement.Entries.Any(e => e.MerchantId == caller.MerchantId && e.Mode == caller.Mode) ? settlement : null;

    private static async Task<Results<Ok<ProofResponse>, ProblemHttpResult>> GetProofAsync(string id, HttpContext context, IGrainFactory grains)
    {
        var (proof, problem) = await FindProofAsync(grains, context.Caller(), id);
        return proof is null ? problem! : TypedResults.Ok(proof.ToResponse());
    }

    /// <summary>
    /// The proof of the caller's withdrawal <paramref name="id"/>: 404 when it is none of the caller's or in no batch,
    /// 409 PROOF_NOT_READY until its payout and the batch's commitment are in a block.
    /// </summary>
    internal static async Task<(PayoutProof? Proof, ProblemHttpResult? Problem)> FindProofAsync(IGrainFactory grains, MerchantCaller caller, string id)
    {
        if (!Guid.TryParse(id, out var withdrawalId) ||
            await grains.GetGrain<IWithdrawalGrain>(withdrawalId).Get() is not { Spec: { } spec, SettlementId: { } settlementId } ||
            spec.MerchantId != caller.MerchantId || spec.Mode != caller.Mode ||
            await FindAsync(grains, settlementId) is not { } settlement)
        {
            return (null, ApiProblem.NotFound("proof"));
        }

        return SettlementProofs.For(settlement, withdrawalId) is { } proof
            ? (proof, null)
            : (null, ApiProblem.Create(StatusCodes.Status409Conflict, ErrorCodes.ProofNotReady, "The payout or the batch's commitment is not in a block yet; try again after the settlement is confirmed."));
    }

    private static async Task<Results<Ok<SettlementResponse>, ProblemHttpResult>> AdminGetAsync(string id, IGrainFactory grains) =>
        await FindAsync(grains, id) is { } settlement ? TypedResults.Ok(settlement.ToResponse(merchantId: null)) : ApiProblem.NotFound("settlement");

    private static async Task<Results<Created<SettlementResponse>, NoContent, ProblemHttpResult>> RunAsync(HttpContext context, IGrainFactory grains, PayoutWallets wallets)
    {
        var network = context.Request.Query["network"].ToString().ToLowerInvariant();
        if (network.Length == 0)
        {
            return ApiProblem.Invalid("network", "is required.");
        }

        if (wallets.For(network) is null)
        {
            return ApiProblem.Invalid("network", $"'{network}' has no payout wallet configured (Chains:Networks:{network}:PayoutWallet or PayoutKey).", ErrorCodes.UnsupportedNetwork);
        }

        var run = await grains.GetGrain<ISettlementSchedulerGrain>(network).Run();
        return run.Outcome switch
        {
            SettlementRunOutcome.Opened => TypedResults.Created($"/v1/admin/settlements/{run.Settlement!.Id}", run.Settlement.ToResponse(merchantId: null)),
            SettlementRunOutcome.NothingQueued => TypedResults.NoContent(),
            _ => ApiProblem.Create(StatusCodes.Status409Conflict, ErrorCodes.SettlementPending,
                $"The previous {network} batch is not broadcast yet{(run.Settlement?.Reason is { } reason ? $": {reason}" : ".")}",
                extra: new Dictionary<string, object?> { ["settlement"] = run.Settlement?.ToResponse(merchantId: null) }),
        };
    }

    private static async Task<Results<Ok<SettlementResponse>, ProblemHttpResult>> FailAsync(string id, HttpContext context, IGrainFactory grains)
    {
        var (reason, problem) = await JsonBody.ReadReasonAsync(context.Request);
        if (problem is not null)
        {
            return problem;
        }

        return await FindAsync(grains, id) is { } settlement
            ? TypedResults.Ok((await grains.GetGrain<ISettlementBatchGrain>(settlement.Id).Fail(reason!)).ToResponse(merchantId: null))
            : ApiProblem.NotFound("settlement");
    }
}
