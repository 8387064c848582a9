using System.Numerics;
using CryptoPay.Grains.Invoices;
using CryptoPay.Grains.Effects;
using CryptoPay.Grains.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans;
using Orleans.Runtime;

namespace CryptoPay.Grains.Deposits;

/// <summary>A payment to one of our deposit addresses, as read from a block or the mempool, already matched to its invoice.</summary>
[GenerateSerializer]
[Alias("cryptopay.observed-payment")]
public sealed record ObservedPayment([property: Id(0)] Guid InvoiceId, [property: Id(1)] string Address, [property: Id(2)] string Txid, [property: Id(3)] int OutputIndex, [property: Id(4)] BigInteger AmountUnits, [property: Id(5)] int RequiredConfirmations)
{
    public (string Txid, int OutputIndex) Output => (Txid, OutputIndex);
}

/// <summary>A block of the node's active chain with the payments to our addresses it carries.</summary>
[GenerateSerializer]
[Alias("cryptopay.observed-block")]
public sealed record ObservedBlock([property: Id(0)] long Height, [property: Id(1)] string Hash, [property: Id(2)] string PreviousHash, [property: Id(3)] IReadOnlyList<ObservedPayment> Payments);

/// <summary>
/// What a reader saw outside any turn: built on the watcher's cursor (<see cref="CursorHeight"/>, <see cref="CursorHash"/>),
/// the last block both the watcher and the node agree on (the fork point; the cursor itself when nothing was reorganised),
/// the node's blocks after it, and our payments in the mempool (null for chains whose mempool is not watched).
/// </summary>
[GenerateSerializer]
[Alias("cryptopay.chain-batch")]
public sealed record ChainBatch(
    [property: Id(0)] long CursorHeight,
    [property: Id(1)] string? CursorHash,
    [property: Id(2)] long ForkHeight,
    [property: Id(3)] string? ForkHash,
    [property: Id(4)] IReadOnlyList<ObservedBlock> Blocks,
    [property: Id(5)] IReadOnlyList<ObservedPayment>? Mempool,
    [property: Id(6)] int ReorgDepth,
    [property: Id(7)] bool EndsPoll);

public enum ChainBatchOutcome
{
    Recorded,

    /// <summary>The batch was read on a cursor that moved meanwhile (another poll recorded first): read again.</summary>
    Stale,
}

/// <summary>Where the watcher is: the tip it has processed and the recent block hashes it remembers to find a fork.</summary>
[GenerateSerializer]
[Alias("cryptopay.chain-cursor")]
public sealed record ChainCursor([property: Id(0)] long Height, [property: Id(1)] string? TipHash, [property: Id(2)] IReadOnlyList<RememberedBlock> Recent);

[GenerateSerializer]
[Alias("cryptopay.remembered-block")]
public sealed record RememberedBlock([property: Id(0)] long Height, [property: Id(1)] string Hash);

/// <summary>A payment the watcher still follows: its block may be reorganised away, or it needs more confirmations.</summary>
[GenerateSerializer]
[Alias("cryptopay.watched-payment")]
public sealed record WatchedPayment([property: Id(0)] Guid InvoiceId, [property: Id(1)] string Txid, [property: Id(2)] int OutputIndex, [property: Id(3)] int RequiredConfirmations);

/// <summary>One recent block: its hash, and only our payments in it (most blocks carry none), so the state stays small.</summary>
[GenerateSerializer]
[Alias("cryptopay.watched-block")]
public sealed record WatchedBlock
{
    [Id(0)]
    public long Height { get; set; }

    [Id(1)]
    public string Hash { get; set; } = "";

    [Id(2)]
    public List<WatchedPayment> Payments { get; set; } = [];
}

[GenerateSerializer]
[Alias("cryptopay.chain-watcher-state")]
public sealed record ChainWatcherState
{
    /// <summary>The last block processed; -1 before the first batch.</summary>
    [Id(0)]
    public long Height { get; set; } = -1;

    /// <summary>The recent blocks, oldest first, up to the reorg depth (longer while a payment in them still needs confirmations).</summary>
    [Id(1)]
    public List<WatchedBlock> Blocks { get; set; } = [];

    /// <summary>Our payments seen in the mempool and in no block yet.</summary>
    [Id(2)]
    public List<WatchedPayment> Mempool { get; set; } = [];

    [Id(3)]
    public TimeSpan PollInterval { get; set; }

    /// <summary>A poll was started until then (by a reminder tick); ticks meanwhile do not start a second one.</summary>
    [Id(4)]
    public DateTimeOffset? PollClaimedUntil { get; set; }

    [Id(5)]
    public long BatchesRecorded { get; set; }

    [Id(6)]
    public long PaymentsSeen { get; set; }

    [Id(7)]
    public long PaymentsReorged { get; set; }

    public string? TipHash => Blocks.Count == 0 ? null : Blocks[^1].Hash;
}

/// <summary>
/// The chain watcher of one network (key: the network id). A periodic reminder asks the silo's
/// <see cref="ChainWatchSignals"/> to poll; the poll reads the node outside any turn and records what it saw with
/// <see cref="Record"/>, a short turn that checks the batch continues the chain it remembers and tells invoices by
/// exactly-once messages: new payments, confirmations, and payments whose block was reorganised away.
/// </summary>
[Alias("cryptopay.chain-watcher")]
public interface IChainWatcherGrain : IGrainWithStringKey, IWakeable
{
    /// <summary>Starts (or re-times) polling: a poll is asked for every <paramref name="pollInterval"/> while the watcher is active, and its wake reminder keeps it active.</summary>
    Task Start(TimeSpan pollInterval);

    Task Stop();

    Task<ChainCursor> GetCursor();

    /// <summary>Records what a poll read, if it was read from the watcher's current cursor (else <see cref="ChainBatchOutcome.Stale"/>).</summary>
    Task<ChainBatchOutcome> Record(ChainBatch batch);

    /// <summary>Ends the current poll's claim early (a poll that failed), so the next tick polls again.</summary>
    Task ReleasePoll();

    Task<ChainWatcherState> Get();
}

[GenerateSerializer]
[Alias("cryptopay.chain-continuity")]
public sealed class ChainContinuityException(string message) : Exception(message);

/// <summary>
/// Follows one network's chain: remembers recent blocks and which of our payments they carry, tells invoices about
/// payments, confirmations and reorganisations as effects of its writes, and asks this silo's
/// <see cref="ChainWatchRunner"/> to poll the node. Polls are timed by a grain timer while the watcher is active (precise
/// to the poll interval); its wake reminder, due every minute while polling is on, re-activates it on a survivor after a
/// silo dies. A poll is claimed in the state for a while, so two silos do not read the same node at once.
/// </summary>
[GrainType("chain-watcher")]
public sealed class ChainWatcherGrain(
    [PersistentState("chain-watcher")] IPersistentState<GrainRecord<ChainWatcherState>> record,
    [FromKeyedServices(GatewayClock.Key)] TimeProvider clock,
    ILogger<ChainWatcherGrain> logger,
    IOptions<ReminderOptions> reminders,
    ChainWatchSignals? signals = null)
    : EffectGrain<ChainWatcherState>(record, clock, logger), IChainWatcherGrain
{
    public static readonly TimeSpan MinimumPollClaim = TimeSpan.FromSeconds(10);

    private IGrainTimer? pollTimer;

    /// <summary>While polling is on, due within a reminder period, always: the reminder keeps ticking and keeps the watcher active.</summary>
    protected override DateTimeOffset? DueAt => State.PollInterval > TimeSpan.Zero ? Now + WakePeriod : null;

    /// <summary>
    /// The poll interval, within Orleans' minimum reminder period and a minute: after its silo dies, the watcher is back
    /// on a survivor within about this long of the death being noticed, and polls once the dead silo's claim runs out.
    /// </summary>
    protected override TimeSpan WakePeriod =>
        TimeSpan.FromTicks(Math.Clamp(State.PollInterval.Ticks, reminders.Value.MinimumReminderPeriod.Ticks, Math.Max(RetryPeriod.Ticks, reminders.Value.MinimumReminderPeriod.Ticks)));

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await base.OnActivateAsync(cancellationToken);
        StartTimer();
    }

    public async Task Start(TimeSpan pollInterval)
    {
        if (pollInterval < TimeSpan.FromMilliseconds(100))
        {
            throw new ArgumentOutOfRangeException(nameof(pollInterval), pollInterval, "A chain poll interval must be at least 100 ms.");
        }

        if (State.PollInterval != pollInterval)
        {
            State.PollInterval = pollInterval;
            await SaveAsync();
        }

        StartTimer();
    }

    public async Task Stop()
    {
        State.PollInterval = TimeSpan.Zero;
        pollTimer?.Dispose();
        pollTimer = null;
        await SaveAsync();
    }

    private TimeSpan PollClaim => State.PollInterval * 5 > MinimumPollClaim ? State.PollInterval * 5 : MinimumPollClaim;

    public Task<ChainCursor> GetCursor() =>
        Task.FromResult(new ChainCursor(State.Height, State.TipHash, [.. State.Blocks.Select(b => new RememberedBlock(b.Height, b.Hash))]));

    public Task<ChainWatcherState> Get() => Task.FromResult(State);

    public async Task ReleasePoll()
    {
        State.PollClaimedUntil = null;
        await SaveAsync();
    }

    protected override Task OnWakeAsync()
    {
        StartTimer();
        return RequestPollAsync();
    }

    private void StartTimer()
    {
        if (pollTimer is null && State.PollInterval > TimeSpan.Zero)
        {
            pollTimer = this.RegisterGrainTimer(_ => RequestPollAsync(), new GrainTimerCreationOptions(State.PollInterval, State.PollInterval));
        }
    }

    /// <summary>Claims a poll and asks this silo's runner for it, unless one is claimed or this silo cannot poll (no watchers role).</summary>
    private async Task RequestPollAsync()
    {
        if (State.PollInterval <= TimeSpan.Zero || State.PollClaimedUntil > Now || signals?.CanPoll != true)
        {
            return;
        }

        State.PollClaimedUntil = Now + PollClaim;
        await SaveAsync();
        signals.RequestPoll(this.GetPrimaryKeyString());
    }

    public async Task<ChainBatchOutcome> Record(ChainBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.CursorHeight != State.Height || batch.CursorHash != State.TipHash)
        {
            return ChainBatchOutcome.Stale;
        }

        EnsureContinues(batch);
        var oldTip = State.Height;
        var newTip = batch.Blocks.Count > 0 ? batch.Blocks[^1].Height : batch.ForkHeight;
        var orphaned = State.Blocks.Where(b => b.Height > batch.ForkHeight).ToList();
        State.Blocks.RemoveAll(b => b.Height > batch.ForkHeight);
        if (State.Blocks.Count == 0 && batch.ForkHash is not null)
        {
            // The first batch: remember the block it starts after, so the next batch's continuity can be checked.
            State.Blocks.Add(new WatchedBlock { Height = batch.ForkHeight, Hash = batch.ForkHash });
        }

        var inNewBlocks = batch.Blocks.SelectMany(b => b.Payments).Select(p => p.Output).ToHashSet();
        var inMempool = batch.Mempool?.ToDictionary(p => p.Output);

        // Payments whose block left the chain: back to unconfirmed while still in the mempool, gone otherwise;
        // those the new blocks carry again are recorded with them below.
        foreach (var payment in orphaned.SelectMany(b => b.Payments).Where(p => !inNewBlocks.Contains((p.Txid, p.OutputIndex))))
        {
            State.PaymentsReorged++;
            if (inMempool?.ContainsKey((payment.Txid, payment.OutputIndex)) == true)
            {
                Send(new SetConfirmations(payment.InvoiceId, payment.Txid, payment.OutputIndex, 0));
                State.Mempool.Add(payment);
            }
            else
            {
                Send(new RemovePaymentEffect(payment.InvoiceId, payment.Txid, payment.OutputIndex));
            }
        }

        // Confirmations of payments in blocks that stay, while they are below what their invoice requires.
        foreach (var block in State.Blocks)
        {
            var before = (int)(oldTip - block.Height + 1);
            var now = (int)(newTip - block.Height + 1);
            foreach (var payment in block.Payments.Where(p => now != before && (before < p.RequiredConfirmations || now < p.RequiredConfirmations)))
            {
                Send(new SetConfirmations(payment.InvoiceId, payment.Txid, payment.OutputIndex, now));
            }
        }

        foreach (var block in batch.Blocks)
        {
            var confirmations = (int)(newTip - block.Height + 1);
            foreach (var payment in block.Payments)
            {
                Send(new ObservePayment(payment.InvoiceId, new PaymentObservation(payment.Address, payment.Txid, payment.OutputIndex, payment.AmountUnits, confirmations)));
            }

            State.PaymentsSeen += block.Payments.Count;
            State.Blocks.Add(new WatchedBlock
            {
                Height = block.Height,
                Hash = block.Hash,
                Payments = [.. block.Payments.Select(p => new WatchedPayment(p.InvoiceId, p.Txid, p.OutputIndex, p.RequiredConfirmations))],
            });
        }

        State.Mempool.RemoveAll(p => inNewBlocks.Contains((p.Txid, p.OutputIndex)));
        if (inMempool is not null)
        {
            RecordMempool(inMempool, inNewBlocks);
        }

        State.Height = newTip;
        Trim(newTip, batch.ReorgDepth);
        State.BatchesRecorded++;
        if (batch.EndsPoll)
        {
            State.PollClaimedUntil = null;
        }
        else if (State.PollClaimedUntil is not null)
        {
            State.PollClaimedUntil = Now + PollClaim; // a poll catching up batch by batch is alive: renew its lease
        }

        await SaveAsync();
        return ChainBatchOutcome.Recorded;
    }

    /// <summary>New mempool payments count with 0 confirmations; followed ones that left the mempool without a block are gone (replaced or evicted).</summary>
    private void RecordMempool(Dictionary<(string, int), ObservedPayment> inMempool, HashSet<(string, int)> inNewBlocks)
    {
        var inBlocks = State.Blocks.SelectMany(b => b.Payments).Select(p => (p.Txid, p.OutputIndex)).ToHashSet();
        foreach (var vanished in State.Mempool.Where(p => !inMempool.ContainsKey((p.Txid, p.OutputIndex))).ToList())
        {
            Send(new RemovePaymentEffect(vanished.InvoiceId, vanished.Txid, vanished.OutputIndex));
            State.Mempool.Remove(vanished);
        }

        var followed = State.Mempool.Select(p => (p.Txid, p.OutputIndex)).ToHashSet();
        foreach (var (output, payment) in inMempool)
        {
            if (followed.Contains(output) || inNewBlocks.Contains(output) || inBlocks.Contains(output))
            {
                continue;
            }

            Send(new ObservePayment(payment.InvoiceId, new PaymentObservation(payment.Address, payment.Txid, payment.OutputIndex, payment.AmountUnits, 0)));
            State.Mempool.Add(new WatchedPayment(payment.InvoiceId, payment.Txid, payment.OutputIndex, payment.RequiredConfirmations));
            State.PaymentsSeen++;
        }
    }

    private void EnsureContinues(ChainBatch batch)
    {
        if (State.Height >= 0)
        {
            if (batch.ForkHeight > State.Height)
            {
                throw new ChainContinuityException($"Batch for {this.GetPrimaryKeyString()} starts after block {batch.ForkHeight}, beyond the watcher's tip {State.Height}.");
            }

            var fork = State.Blocks.Find(b => b.Height == batch.ForkHeight);
            if (fork is null || fork.Hash != batch.ForkHash)
            {
                throw new ChainContinuityException(
                    $"Batch for {this.GetPrimaryKeyString()} forks at block {batch.ForkHeight} ({batch.ForkHash}), which the watcher does not remember " +
                    $"(it remembers {State.Blocks.FirstOrDefault()?.Height}..{State.Height}): a reorganisation deeper than the reorg depth needs an operator.");
            }
        }

        var previous = batch.ForkHash;
        var height = batch.ForkHeight;
        foreach (var block in batch.Blocks)
        {
            if (block.Height != ++height || (previous is not null && block.PreviousHash != previous))
            {
                throw new ChainContinuityException($"Block {block.Height} ({block.Hash}) of the batch for {this.GetPrimaryKeyString()} does not follow block {height - 1} ({previous}).");
            }

            previous = block.Hash;
        }
    }

    /// <summary>Forgets blocks deeper than the reorg depth, unless a payment in them still waits for confirmations.</summary>
    private void Trim(long tip, int reorgDepth)
    {
        var depth = Math.Max(1, reorgDepth);
        State.Blocks.RemoveAll(b => tip - b.Height + 1 > depth && b.Payments.TrueForAll(p => tip - b.Height + 1 >= p.RequiredConfirmations));
    }
}

/// <summary>
/// The silo's link from watcher reminders to its <see cref="ChainWatchRunner"/>: a reminder turn asks, after commit,
/// for a poll; the runner (registered on silos with the watchers role) answers. One per silo (a DI singleton).
/// </summary>
public sealed class ChainWatchSignals
{
    private Action<string>? handler;

    public void Subscribe(Action<string> onPollRequested) => handler = onPollRequested;

    /// <summary>True when this silo runs polls (a runner with the watchers role subscribed).</summary>
    public bool CanPoll => handler is not null;

    public void RequestPoll(string network) => handler?.Invoke(network);
}
