using CryptoPay.Api.Access;
using CryptoPay.Grains.ApiKeys;
using CryptoPay.Grains.Ledger;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace CryptoPay.Api.Balances;

/// <summary>One asset's balances as exact decimal strings in the asset's units.</summary>
public sealed record AssetBalanceResponse(string Available, string Pending, string Reserved);

/// <summary>The caller's balances per asset (<c>USDT-TRON</c>, <c>BTC</c>), in the caller's mode only.</summary>
public sealed record BalancesResponse(IReadOnlyDictionary<string, AssetBalanceResponse> Balances);

public static class BalanceEndpoints
{
    public static IEndpointRouteBuilder MapBalances(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/v1/balances", GetAsync).WithTags("Balances").ForMerchant(ApiKeyScopes.BalancesRead)
            .WithSummary("Get balances")
            .WithDescription("Per asset (`USDT-TRON`, `BTC`, …): available (confirmed, free to withdraw), reserved (held for withdrawals not yet paid: amount + fee) and pending (detected, unconfirmed) amounts as exact decimal strings.");
        return endpoints;
    }

    private static async Task<Ok<BalancesResponse>> GetAsync(HttpContext context, ILedgerQuery ledger)
    {
        var caller = context.Caller();
        var balances = await ledger.BalancesAsync(caller.MerchantId, caller.Mode, context.RequestAborted);
        var response = new SortedDictionary<string, AssetBalanceResponse>(StringComparer.Ordinal);
        foreach (var balance in balances)
        {
            response[balance.Asset] = new AssetBalanceResponse(
                LedgerKeys.FormatUnits(balance.Available, balance.Decimals),
                LedgerKeys.FormatUnits(balance.Pending, balance.Decimals),
                LedgerKeys.FormatUnits(balance.Reserved, balance.Decimals));
        }

        return TypedResults.Ok(new BalancesResponse(response));
    }
}
