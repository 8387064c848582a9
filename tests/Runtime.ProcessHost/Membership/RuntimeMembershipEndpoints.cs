using Microsoft.AspNetCore.Http.HttpResults;
using RuntimeSilo = CryptoPay.Runtime.Silo;

namespace CryptoPay.Runtime.ProcessHost.Membership;

/// <summary>
/// src/Runtime's own membership, for the crash tests of its grains: /v1/cluster/silos lists Orleans' silos now, and
/// this host runs no Orleans. Goes with src/Runtime.
/// </summary>
public static class RuntimeMembershipEndpoints
{
    public const string Path = "/test/runtime/silos";

    public static IEndpointRouteBuilder MapRuntimeMembership(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Path, ListAsync);
        return endpoints;
    }

    private static async Task<Ok<RuntimeMembers>> ListAsync(RuntimeSilo silo, CancellationToken ct)
    {
        var members = await silo.GetMembershipAsync(ct);
        return TypedResults.Ok(new RuntimeMembers(silo.SiloId, [.. members.Select(m => new RuntimeMember(m.Record.SiloId, m.Record.Status, m.IsAlive))]));
    }
}

public sealed record RuntimeMembers(string Self, IReadOnlyList<RuntimeMember> Silos);

public sealed record RuntimeMember(string SiloId, string Status, bool IsAlive);
