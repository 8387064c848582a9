using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CryptoPay.Silo.Health;

/// <summary>Liveness (the process answers) and readiness (the silo can serve: running, store reachable).</summary>
public static class HealthEndpoints
{
    private const string ReadyTag = "ready";

    /// <summary>A readiness check slower than this counts as failed, so a hung database makes the silo unready rather than the probe hang.</summary>
    private static readonly TimeSpan ReadinessTimeout = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddSiloHealthChecks(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<SiloReadinessCheck>("silo", tags: [ReadyTag], timeout: ReadinessTimeout);
        return services;
    }

    public static IEndpointRouteBuilder MapSiloHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = (context, _) => context.Response.WriteAsJsonAsync(new HealthResponse("alive", null), context.RequestAborted),
        });
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteReadinessAsync,
        });
        return endpoints;
    }

    private static Task WriteReadinessAsync(HttpContext context, HealthReport report)
    {
        var response = report.Status == HealthStatus.Unhealthy
            ? new HealthResponse("unavailable", string.Join("; ", report.Entries.Values.Where(e => e.Status == HealthStatus.Unhealthy).Select(e => e.Description ?? e.Exception?.Message ?? "check failed")))
            : new HealthResponse("ready", string.Join("; ", report.Entries.Values.Select(e => e.Description)));
        return context.Response.WriteAsJsonAsync(response, context.RequestAborted);
    }
}

/// <summary>Body of the health endpoints: <c>status</c> is alive, ready or unavailable; <c>reason</c> says why.</summary>
public sealed record HealthResponse(
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason);
