using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Effects;

/// <summary>A sweeper of the cluster: one grain (key <see cref="SweeperGrain.Key"/>) that sweeps a table for due work.</summary>
[Alias("cryptopay.sweeper")]
public interface ISweeperGrain : IGrainWithStringKey
{
    /// <summary>Makes sure the sweeper runs: its reminder exists (it survives silos) and this activation's timer ticks.</summary>
    Task Start();
}

/// <summary>
/// What the cluster's sweepers share: a timer sweeps every <see cref="SweepPeriod"/> while the grain is active; a reminder
/// (every <see cref="ReminderPeriod"/>) brings it back on a survivor when its silo dies; each silo starts it at start-up
/// (<see cref="SweeperStartup{TGrain}"/>); a failing sweep logs one line when it starts failing and one when it runs again.
/// </summary>
public abstract class SweeperGrain(ILogger logger) : Grain, IRemindable
{
    public const string Key = "sweeper";
    public const string ReminderName = "sweep";

    /// <summary>How often the reminder that keeps a sweeper alive across silos ticks.</summary>
    public static readonly TimeSpan ReminderPeriod = TimeSpan.FromMinutes(1);

    private bool reminderKnown;
    private bool failing;

    /// <summary>How often the active sweeper sweeps.</summary>
    protected abstract TimeSpan SweepPeriod { get; }

    /// <summary>What it sweeps, for its log lines ("invoice wake").</summary>
    protected abstract string Sweeps { get; }

    protected abstract Task SweepOnceAsync();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(_ => SweepQuietlyAsync(), new GrainTimerCreationOptions(SweepPeriod, SweepPeriod) { KeepAlive = true });
        return base.OnActivateAsync(cancellationToken);
    }

    /// <summary>
    /// Orleans collected the sweeper (idle between two ticks in a forced collection, memory pressure, a rebalancing): it
    /// starts again at once on a new activation, not at its reminder's next tick up to a minute later. A silo shutting
    /// down leaves that to the reminder, on a survivor.
    /// </summary>
    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (reason.ReasonCode != DeactivationReasonCode.ShuttingDown)
        {
            var self = GrainFactory.GetGrain<ISweeperGrain>(this.GetGrainId());
            // From outside this activation's turn, so the call reaches the next activation instead of this one.
            _ = Task.Run(async () =>
            {
                try
                {
                    await self.Start();
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    logger.LogWarning("The {Sweeps} sweeper was collected and could not be started again ({Error}); its reminder starts it within {Period}", Sweeps, error.Message, ReminderPeriod);
                }
            }, CancellationToken.None);
        }

        return base.OnDeactivateAsync(reason, cancellationToken);
    }

    public async Task Start()
    {
        if (!reminderKnown)
        {
            await this.RegisterOrUpdateReminder(ReminderName, ReminderPeriod, ReminderPeriod);
            reminderKnown = true;
        }
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == ReminderName)
        {
            reminderKnown = true;
            await SweepQuietlyAsync();
        }
    }

    private async Task SweepQuietlyAsync()
    {
        try
        {
            await SweepOnceAsync();
            if (failing)
            {
                failing = false;
                logger.LogInformation("The {Sweeps} sweep runs again", Sweeps);
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // One line when sweeps start failing (the database is away), not one every period until it is back.
            if (!failing)
            {
                failing = true;
                logger.LogWarning("The {Sweeps} sweep failed ({Error}); it is tried every {Period} and says when it runs again", Sweeps, error.Message, SweepPeriod);
            }
        }
    }
}

/// <summary>Starts a sweeper when a silo becomes active (every silo: the call is idempotent and the grain is one).</summary>
public sealed class SweeperStartup<TGrain>(IGrainFactory grains, ILogger<SweeperStartup<TGrain>> logger) : ILifecycleParticipant<ISiloLifecycle>
    where TGrain : ISweeperGrain
{
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe($"{nameof(SweeperStartup<TGrain>)}<{typeof(TGrain).Name}>", ServiceLifecycleStage.Active, StartAsync);
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await grains.GetGrain<TGrain>(SweeperGrain.Key).Start();
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // The reminder registered by an earlier start (it is stored) or by another silo keeps the sweeper going.
            logger.LogWarning(error, "The sweeper {Sweeper} could not be started from this silo", typeof(TGrain).Name);
        }
    }
}
