using CryptoPay.Grains.Withdrawals;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Settlements;

[GenerateSerializer]
[Alias("cryptopay.settlement-scheduler-state")]
public sealed record SettlementSchedulerState
{
    /// <summary>The number of the next batch of this network.</summary>
    [Id(0)]
    public long NextSequence { get; set; } = 1;

    /// <summary>The newest batch; the next one opens only once it is broadcast or settled, so hot-wallet inputs and nonces are never signed twice.</summary>
    [Id(1)]
    public Guid? LastBatch { get; set; }
}

/// <summary>Why no batch was opened.</summary>
public enum SettlementRunOutcome
{
    Opened,

    /// <summary>No withdrawal of the network is queued.</summary>
    NothingQueued,

    /// <summary>The previous batch is not broadcast yet (e.g. it waits for the hot wallet to be funded).</summary>
    PreviousPending,
}

[GenerateSerializer]
[Alias("cryptopay.settlement-run")]
public sealed record SettlementRun([property: Id(0)] SettlementRunOutcome Outcome, [property: Id(1)] SettlementState? Settlement);

/// <summary>
/// The batch window of one network (key: the network id): every <see cref="WithdrawalOptions.SettlementInterval"/>, or
/// when the operator asks, opens the network's next settlement batch with its oldest queued withdrawals (at most
/// <see cref="WithdrawalOptions.MaxPayoutsPerBatch"/>).
/// </summary>
[Alias("cryptopay.settlement-scheduler")]
public interface ISettlementSchedulerGrain : IGrainWithStringKey
{
    /// <summary>Keeps the window's reminder registered (idempotent; every silo calls it at start).</summary>
    Task Start();

    /// <summary>Closes the current window now.</summary>
    Task<SettlementRun> Run();
}

[GrainType("settlement-scheduler")]
public sealed class SettlementSchedulerGrain(
    [PersistentState("settlement-scheduler")] IPersistentState<SettlementSchedulerState> state,
    IServiceProvider services,
    ILogger<SettlementSchedulerGrain> logger)
    : Grain, ISettlementSchedulerGrain, IRemindable
{
    public const string ReminderName = "window";

    private readonly IWithdrawalQuery query = services.GetRequiredService<IWithdrawalQuery>();
    private readonly PayoutWallets wallets = services.GetRequiredService<PayoutWallets>();
    private readonly WithdrawalOptions options = services.GetService<IOptions<WithdrawalOptions>>()?.Value ?? new WithdrawalOptions();

    private string Network => this.GetPrimaryKeyString();

    public async Task Start()
    {
        var period = options.SettlementInterval;
        await this.RegisterOrUpdateReminder(ReminderName, period, period);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName == ReminderName && wallets.For(Network) is null)
        {
            // The operator removed this network's payout wallet: its window closes for good.
            if (await this.GetReminder(ReminderName) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
        else if (reminderName == ReminderName)
        {
            var run = await Run();
            if (run.Outcome == SettlementRunOutcome.Opened)
            {
                logger.LogInformation("Settlement window of {Network} closed: batch {Settlement} with {Count} payouts", Network, run.Settlement!.Id, run.Settlement.Entries.Count);
            }
        }
    }

    public async Task<SettlementRun> Run()
    {
        if (wallets.For(Network) is null)
        {
            throw new InvalidSettlementTransitionException($"Network {Network} has no payout wallet configured.");
        }

        if (state.State.LastBatch is { } last)
        {
            var previous = GrainFactory.GetGrain<ISettlementBatchGrain>(last);
            if (await previous.Get() is { Status: SettlementStatus.Claiming or SettlementStatus.Signed } &&
                await previous.Advance() is { Status: SettlementStatus.Claiming or SettlementStatus.Signed } pending)
            {
                return new SettlementRun(SettlementRunOutcome.PreviousPending, pending);
            }
        }

        var queued = await query.ListAsync(
            new WithdrawalFilter { Status = WithdrawalStatus.Queued, Network = Network, OldestFirst = true, PageSize = options.MaxPayoutsPerBatch }, CancellationToken.None);
        if (queued.Items.Count == 0)
        {
            return new SettlementRun(SettlementRunOutcome.NothingQueued, null);
        }

        // The number is written before the batch opens, so a retry after a crash opens the next number, never this one twice.
        var sequence = state.State.NextSequence;
        var id = SettlementIds.For(Network, sequence);
        state.State.NextSequence = sequence + 1;
        state.State.LastBatch = id;
        await state.WriteStateAsync();
        var batch = await GrainFactory.GetGrain<ISettlementBatchGrain>(id)
            .Open(Network, sequence, [.. queued.Items.Select(w => w.Spec!.Id)], wallets.RequiredConfirmations(Network));
        return new SettlementRun(SettlementRunOutcome.Opened, batch);
    }
}

/// <summary>Starts every payout network's settlement window once the silo is active (idempotent on every silo).</summary>
public sealed class SettlementSchedulerStartup(IGrainFactory grains, PayoutWallets wallets, ILogger<SettlementSchedulerStartup> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(SettlementSchedulerStartup), ServiceLifecycleStage.Active, StartAsync);
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var network in wallets.Networks)
        {
            try
            {
                await grains.GetGrain<ISettlementSchedulerGrain>(network).Start();
            }
            catch (Exception error) when (error is not OperationCanceledException)
            {
                // The reminder registered by an earlier start or by another silo keeps the window going.
                logger.LogWarning(error, "The settlement window of {Network} could not be started from this silo", network);
            }
        }
    }
}
