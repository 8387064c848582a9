using CryptoPay.Runtime;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RuntimeSilo = CryptoPay.Runtime.Silo;

namespace CryptoPay.Silo.Health;

/// <summary>Ready when the silo runs its turns and its store answers a query; otherwise says why not.</summary>
internal sealed class SiloReadinessCheck(RuntimeSilo silo) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (silo.State != SiloState.Running)
        {
            return HealthCheckResult.Unhealthy($"silo {silo.SiloId} is {silo.State.ToString().ToLowerInvariant()}");
        }

        try
        {
            var backlog = await silo.Store.GetBacklogAsync(silo.TimeProvider.GetUtcNow(), cancellationToken);
            return HealthCheckResult.Healthy(
                $"silo {silo.SiloId} is running on the {silo.Store.Name} store",
                new Dictionary<string, object>
                {
                    ["pendingMessages"] = backlog.PendingMessages,
                    ["dueReminders"] = backlog.DueReminders,
                });
        }
        catch (Exception error) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"the {silo.Store.Name} store did not answer: {error.Message}", error);
        }
    }
}
