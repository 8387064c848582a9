using CryptoPay.Api.Errors;
using CryptoPay.Silo.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Silo.Cluster;

/// <summary>
/// Operator views of the cluster, behind the operator admin key: the Orleans silos with their activations and
/// reminders. (The retired runtime's /v1/cluster/backlog, its message queue, has no Orleans counterpart and is gone:
/// webhook backlog, reminder lag and chain-watcher lag are metrics at /metrics, see docs/ORLEANS.md.)
/// </summary>
public static class ClusterEndpoints
{
    /// <summary>Grain statistics come from every live silo; one that does not answer in time is listed without them.</summary>
    private static readonly TimeSpan StatisticsTimeout = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapClusterEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var cluster = endpoints.MapGroup("/v1/cluster").AddEndpointFilter(OperatorAccess.RequireAdminKeyAsync);
        cluster.MapGet("/silos", ListSilosAsync);
        return endpoints;
    }

    /// <summary>
    /// The membership rows are read again from the membership table for each view; past this the view answers 503 with
    /// Retry-After instead of holding the operator's request. In the full test run the survivor's first view after the
    /// other silo was suspended (SIGSTOP) went unanswered for 30 s (SiloHangTests; not reproduced alone).
    /// </summary>
    private static readonly TimeSpan MembershipTimeout = TimeSpan.FromSeconds(10);

    internal static async Task<Results<Ok<ClusterMembersResponse>, ProblemHttpResult>> ListSilosAsync(
        HttpContext http, IGrainFactory grains, ILocalSiloDetails local, IReminderTable reminders, CancellationToken ct)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        MembershipEntry[] members;
        try
        {
            members = await management.GetDetailedHosts(onlyActive: false).WaitAsync(MembershipTimeout, ct);
        }
        catch (TimeoutException)
        {
            http.Response.Headers.RetryAfter = "1";
            return ApiProblem.Create(StatusCodes.Status503ServiceUnavailable, ErrorCodes.ServiceUnavailable,
                $"The cluster's membership could not be read within {MembershipTimeout.TotalSeconds:0} s; ask again.");
        }

        var activations = await ActivationsBySiloAsync(management, ct);
        // (0, 0] wraps around the whole ring: every reminder of the cluster.
        var reminderCount = (await reminders.ReadRows(0, 0)).Reminders.Count;
        return TypedResults.Ok(new ClusterMembersResponse(
            local.SiloAddress.ToParsableString(),
            activations?.Values.Sum(),
            reminderCount,
            [.. members.OrderBy(m => m.StartTime).Select(m => SiloMemberResponse.From(m, local.SiloAddress, activations))]));
    }

    private static async Task<Dictionary<SiloAddress, int>?> ActivationsBySiloAsync(IManagementGrain management, CancellationToken ct)
    {
        try
        {
            var statistics = await management.GetSimpleGrainStatistics().WaitAsync(StatisticsTimeout, ct);
            return statistics.GroupBy(s => s.SiloAddress).ToDictionary(g => g.Key, g => g.Sum(s => s.ActivationCount));
        }
        catch (Exception error) when (error is TimeoutException or OrleansException)
        {
            return null;
        }
    }
}

/// <summary>
/// The Orleans cluster as this silo (<see cref="Self"/>) sees it. <c>activations</c> counts grain activations on the
/// live silos (null when one did not answer), <c>reminders</c> the Orleans reminders of the whole cluster.
/// </summary>
public sealed record ClusterMembersResponse(string Self, int? Activations, int Reminders, IReadOnlyList<SiloMemberResponse> Silos);

/// <summary>
/// One Orleans membership row: <c>status</c> is Orleans' (<c>joining</c>, <c>active</c>, <c>shutting_down</c>,
/// <c>stopping</c>, <c>dead</c>), <c>is_alive</c> whether it is active; <c>address</c> is its silo endpoint.
/// </summary>
public sealed record SiloMemberResponse(
    string SiloId,
    string SiloName,
    string HostName,
    string Address,
    int GatewayPort,
    string Status,
    bool IsAlive,
    bool IsSelf,
    DateTimeOffset StartedAt,
    DateTimeOffset LastHeartbeat,
    int? Activations)
{
    public static SiloMemberResponse From(MembershipEntry member, SiloAddress self, IReadOnlyDictionary<SiloAddress, int>? activations) => new(
        member.SiloAddress.ToParsableString(),
        member.SiloName,
        member.HostName,
        member.SiloAddress.Endpoint.ToString(),
        member.ProxyPort,
        StatusName(member.Status),
        member.Status == SiloStatus.Active,
        member.SiloAddress.Equals(self),
        new DateTimeOffset(member.StartTime, TimeSpan.Zero),
        new DateTimeOffset(member.IAmAliveTime, TimeSpan.Zero),
        member.Status != SiloStatus.Active ? null
            : activations is null ? null
            : activations.GetValueOrDefault(member.SiloAddress));

    private static string StatusName(SiloStatus status) => status switch
    {
        SiloStatus.ShuttingDown => "shutting_down",
        _ => status.ToString().ToLowerInvariant(),
    };
}
