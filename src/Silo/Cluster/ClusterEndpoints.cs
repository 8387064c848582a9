using CryptoPay.Runtime;
using CryptoPay.Runtime.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using RuntimeSilo = CryptoPay.Runtime.Silo;
using SiloStatus = CryptoPay.Runtime.SiloStatus;

namespace CryptoPay.Silo.Cluster;

/// <summary>Operator views of the cluster: its members and the work waiting in the store.</summary>
public static class ClusterEndpoints
{
    public static IEndpointRouteBuilder MapClusterEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var cluster = endpoints.MapGroup("/v1/cluster");
        cluster.MapGet("/silos", ListSilosAsync);
        cluster.MapGet("/backlog", GetBacklogAsync);
        return endpoints;
    }

    internal static async Task<Ok<ClusterMembersResponse>> ListSilosAsync(RuntimeSilo silo, CancellationToken ct)
    {
        var members = await silo.GetMembershipAsync(ct);
        return TypedResults.Ok(new ClusterMembersResponse(
            silo.SiloId,
            [.. members.Select(m => SiloMemberResponse.From(m, silo.SiloId))]));
    }

    internal static async Task<Ok<BacklogResponse>> GetBacklogAsync(RuntimeSilo silo, CancellationToken ct)
    {
        var now = silo.TimeProvider.GetUtcNow();
        var backlog = await silo.Store.GetBacklogAsync(now, ct);
        return TypedResults.Ok(BacklogResponse.From(backlog, now));
    }
}

/// <summary>The members of the cluster as this silo (<see cref="Self"/>) sees them.</summary>
public sealed record ClusterMembersResponse(string Self, IReadOnlyList<SiloMemberResponse> Silos);

/// <summary>One membership row: <c>status</c> is what the silo last wrote, <c>is_alive</c> whether its heartbeat is current.</summary>
public sealed record SiloMemberResponse(
    string SiloId,
    string HostName,
    string? Address,
    IReadOnlyList<string> Roles,
    string Status,
    bool IsAlive,
    bool IsSelf,
    DateTimeOffset StartedAt,
    DateTimeOffset LastHeartbeat)
{
    public static SiloMemberResponse From(SiloStatus member, string self) => new(
        member.Record.SiloId,
        member.Record.HostName,
        member.Record.Address,
        member.Record.Roles,
        member.Record.Status,
        member.IsAlive,
        string.Equals(member.Record.SiloId, self, StringComparison.Ordinal),
        member.Record.StartedAt,
        member.Record.LastHeartbeat);
}

/// <summary>Work waiting in the store; ages are in milliseconds, measured at <see cref="MeasuredAt"/>.</summary>
public sealed record BacklogResponse(
    long DueReminders,
    long PendingMessages,
    long DueMessages,
    DateTimeOffset? OldestDueReminder,
    long? OldestDueReminderAgeMs,
    DateTimeOffset? OldestDueMessage,
    long? OldestDueMessageAgeMs,
    DateTimeOffset MeasuredAt)
{
    public static BacklogResponse From(StoreBacklog backlog, DateTimeOffset now) => new(
        backlog.DueReminders,
        backlog.PendingMessages,
        backlog.DueMessages,
        backlog.OldestDueReminder,
        AgeMs(backlog.OldestDueReminder, now),
        backlog.OldestDueMessage,
        AgeMs(backlog.OldestDueMessage, now),
        now);

    private static long? AgeMs(DateTimeOffset? since, DateTimeOffset now) =>
        since is { } at ? Math.Max(0, (now - at).Ticks) / TimeSpan.TicksPerMillisecond : null;
}
