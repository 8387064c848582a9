using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CryptoPay.Runtime.ProcessHost.Ledger;

/// <summary>HTTP access to the test grains, so a test drives real silo processes as clients do.</summary>
public static class LedgerTestEndpoints
{
    public static GrainRuntimeBuilder AddLedgerTestGrains(this GrainRuntimeBuilder runtime)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        return runtime
            .AddGrain<ILedgerTestGrain, LedgerTestGrain>()
            .AddGrain<ITotalTestGrain, TotalTestGrain>();
    }

    public static IEndpointRouteBuilder MapLedgerTestEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/ops/{grainKey}/{opId}/{amount:long}", ApplyAsync);
        endpoints.MapGet("/grains/{key}", GetGrainAsync);
        endpoints.MapGet("/total", GetTotalAsync);
        return endpoints;
    }

    private static async Task<Ok<long>> ApplyAsync(string grainKey, string opId, long amount, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ILedgerTestGrain>(grainKey).Apply(opId, amount));

    private static async Task<Ok<LedgerSnapshot>> GetGrainAsync(string key, IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ILedgerTestGrain>(key).GetSnapshot());

    private static async Task<Ok<LedgerSnapshot>> GetTotalAsync(IGrainFactory grains) =>
        TypedResults.Ok(await grains.GetGrain<ITotalTestGrain>(LedgerTestGrain.TotalKey).GetSnapshot());
}
