using CryptoPay.Grains.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Orleans.Runtime;

namespace CryptoPay.Silo.Health;

/// <summary>
/// Ready when this Orleans silo is an active member of its cluster and, on PostgreSQL, the database answers a query;
/// otherwise says why not. (Joining, shutting down or declared dead: not ready.)
/// </summary>
internal sealed class SiloReadinessCheck(ISiloStatusOracle membership, SiloRoles roles, NpgsqlDataSource? database = null) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var silo = membership.SiloAddress.ToParsableString();
        var status = membership.CurrentStatus;
        if (status != SiloStatus.Active)
        {
            return HealthCheckResult.Unhealthy($"silo {silo} is {status.ToString().ToLowerInvariant()}, not active");
        }

        var store = database is null ? "memory" : "postgres";
        var data = new Dictionary<string, object> { ["roles"] = string.Join(",", roles.Effective) };
        if (database is not null)
        {
            try
            {
                await using var command = database.CreateCommand("SELECT 1");
                await command.ExecuteScalarAsync(cancellationToken);
            }
            catch (Exception error) when (!cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy($"the postgres store did not answer: {error.Message}", error, data);
            }
        }

        return HealthCheckResult.Healthy($"silo {silo} is active on the {store} store (roles {data["roles"]})", data);
    }
}
