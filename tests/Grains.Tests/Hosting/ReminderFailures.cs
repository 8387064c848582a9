using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Tests.Hosting;

/// <summary>
/// Makes the test cluster's reminder table refuse the next registrations, as a silo whose reminder service is not
/// reachable (its owner just died, the database is down) does.
/// </summary>
public sealed class ReminderFailures
{
    private int failNext;

    public void FailNextRegistrations(int count) => Volatile.Write(ref failNext, count);

    /// <summary>Wraps the <see cref="IReminderTable"/> registered so far in one that fails as planned.</summary>
    public void Decorate(IServiceCollection services)
    {
        var inner = services.Last(d => d.ServiceType == typeof(IReminderTable));
        services.Remove(inner);
        services.AddSingleton<IReminderTable>(sp => new FailingReminderTable(Create(inner, sp), this));
    }

    private static IReminderTable Create(ServiceDescriptor descriptor, IServiceProvider services) =>
        (IReminderTable)(descriptor.ImplementationInstance
                         ?? descriptor.ImplementationFactory?.Invoke(services)
                         ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));

    private bool TakeFailure()
    {
        while (true)
        {
            var left = Volatile.Read(ref failNext);
            if (left <= 0)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref failNext, left - 1, left) == left)
            {
                return true;
            }
        }
    }

    private sealed class FailingReminderTable(IReminderTable inner, ReminderFailures plan) : IReminderTable
    {
        public Task<ReminderTableData> ReadRows(GrainId grainId) => inner.ReadRows(grainId);

        public Task<ReminderTableData> ReadRows(uint begin, uint end) => inner.ReadRows(begin, end);

        public Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName) => inner.ReadRow(grainId, reminderName);

        public Task<string?> UpsertRow(ReminderEntry entry) =>
            plan.TakeFailure() ? throw new TimeoutException("The reminder table did not answer (planned by the test).") : inner.UpsertRow(entry);

        public Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag) => inner.RemoveRow(grainId, reminderName, eTag);

        public Task TestOnlyClearTable() => inner.TestOnlyClearTable();

        public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken = default) => inner.StopAsync(cancellationToken);
    }
}
