using System.ComponentModel;
using CryptoPay.Api.Access;
using CryptoPay.Api.Docs;
using CryptoPay.Api.Errors;
using CryptoPay.Api.Json;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Hosting;
using CryptoPay.Grains.Withdrawals;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace CryptoPay.Api.Withdrawals;

/// <summary>The body of <c>POST /v1/beneficiaries</c>.</summary>
public sealed record CreateBeneficiaryRequest(
    [property: Description("btc, ltc, eth, bsc or tron (sandbox for test-mode keys).")] string Network,
    [property: Description("The destination, validated for the network when saved.")] string Address,
    [property: Description("Your name for it; at most 100 characters.")] string? Label = null);

public sealed record BeneficiaryResponse(Guid Id, string Network, string Address, string? Label, DateTimeOffset CreatedAt);

public sealed record BeneficiaryListResponse(IReadOnlyList<BeneficiaryResponse> Items);

/// <summary>Beneficiaries: saved, validated withdrawal destinations per network; a payout is a withdrawal to one.</summary>
public static class BeneficiaryEndpoints
{
    public static IEndpointRouteBuilder MapBeneficiaries(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/v1/beneficiaries").WithTags("Beneficiaries");
        group.MapPost("", CreateAsync).ForMerchant(ApiKeyScopes.WithdrawalsWrite, idempotent: true).Accepts<CreateBeneficiaryRequest>("application/json", "*/*")
            .WithSummary("Save a beneficiary")
            .WithDescription("Saves a destination address, validated for its network; withdraw to it with beneficiary_id.")
            .RequestExample("""{"network": "tron", "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "label": "Supplier A"}""")
            .Problem(StatusCodes.Status400BadRequest, $"INVALID_ADDRESS: not an address of the network; UNSUPPORTED_NETWORK; VALIDATION_FAILED: also when {BeneficiariesGrain.MaxBeneficiaries} are saved in this mode already.");
        group.MapGet("", ListAsync).ForMerchant(ApiKeyScopes.BalancesRead)
            .WithSummary("List beneficiaries")
            .WithDescription("The beneficiaries saved in the key's mode, oldest first.");
        group.MapGet("/{id}", GetAsync).ForMerchant(ApiKeyScopes.BalancesRead)
            .WithSummary("Get a beneficiary")
            .WithDescription("One saved beneficiary: network, address and label.");
        group.MapDelete("/{id}", DeleteAsync).ForMerchant(ApiKeyScopes.WithdrawalsWrite)
            .WithSummary("Delete a beneficiary")
            .WithDescription("Forgets the beneficiary; withdrawals already made to it keep their address.");
        return endpoints;
    }

    internal static IBeneficiariesGrain Registry(IGrainFactory grains, MerchantCaller caller) =>
        grains.GetGrain<IBeneficiariesGrain>(BeneficiariesGrain.KeyFor(caller.MerchantId, caller.Mode));

    private static BeneficiaryResponse ToResponse(Beneficiary b) => new(b.Id, b.Network, b.Address, b.Label, b.CreatedAt);

    private static async Task<Results<Created<BeneficiaryResponse>, ProblemHttpResult>> CreateAsync(
        HttpContext context, IGrainFactory grains, WithdrawalRequests requests, [FromKeyedServices(GatewayClock.Key)] TimeProvider time)
    {
        var (body, problem) = await JsonBody.ReadAsync(context.Request);
        if (body is null)
        {
            return problem!;
        }

        var (saved, refused) = await SaveAsync(context, body, grains, requests, time);
        return saved is null ? refused! : TypedResults.Created($"/v1/beneficiaries/{saved.Id}", ToResponse(saved));
    }

    /// <summary>Saves the caller's beneficiary from a body in the <c>/v1</c> shape (profiles compose that body too): the beneficiary, or the problem that refused it.</summary>
    internal static async Task<(Beneficiary? Beneficiary, ProblemHttpResult? Problem)> SaveAsync(
        HttpContext context, JsonBody body, IGrainFactory grains, WithdrawalRequests requests, TimeProvider time)
    {
        var network = body.String("network", 20, required: true)?.ToLowerInvariant();
        var address = body.String("address", 128, required: true);
        var label = body.Text("label", 100);
        if (!body.IsValid)
        {
            return (null, body.Problem());
        }

        var caller = context.Caller();
        if (WithdrawalRequests.NetworkProblem(network!, caller.Mode) is { } unsupported)
        {
            return (null, ApiProblem.Invalid("network", unsupported, ErrorCodes.UnsupportedNetwork));
        }

        var (normalized, invalid) = requests.ValidateAddress(network!, address);
        if (normalized is null)
        {
            return (null, ApiProblem.Invalid("address", invalid!, ErrorCodes.InvalidAddress));
        }

        var id = context.IdempotentId("beneficiary") ?? Guid.NewGuid();
        var saved = await Registry(grains, caller).Create(new Beneficiary { Id = id, Network = network!, Address = normalized, Label = label, CreatedAt = time.GetUtcNow() });
        return saved is null
            ? (null, ApiProblem.Invalid("network", $"at most {BeneficiariesGrain.MaxBeneficiaries} beneficiaries per mode; delete one first."))
            : (saved, null);
    }

    private static async Task<Ok<BeneficiaryListResponse>> ListAsync(HttpContext context, IGrainFactory grains) =>
        TypedResults.Ok(new BeneficiaryListResponse([.. (await Registry(grains, context.Caller()).List()).Select(ToResponse)]));

    private static async Task<Results<Ok<BeneficiaryResponse>, ProblemHttpResult>> GetAsync(string id, HttpContext context, IGrainFactory grains) =>
        Guid.TryParse(id, out var beneficiaryId) && await Registry(grains, context.Caller()).Get(beneficiaryId) is { } beneficiary
            ? TypedResults.Ok(ToResponse(beneficiary))
            : ApiProblem.NotFound("beneficiary");

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, HttpContext context, IGrainFactory grains) =>
        Guid.TryParse(id, out var beneficiaryId) && await Registry(grains, context.Caller()).Delete(beneficiaryId)
            ? TypedResults.NoContent()
            : ApiProblem.NotFound("beneficiary");
}
