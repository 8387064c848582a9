using System.Numerics;
using CryptoPay.Grains.Invoices;
using CryptoPay.Runtime.Grains;

namespace CryptoPay.Grains.Deposits;

/// <summary>A payment to one of our deposit addresses, as read from a block or the mempool, already matched to its invoice.</summary>
public sealed record ObservedPayment(Guid InvoiceId, string Address, string Txid, int OutputIndex, BigInteger AmountUnits, int RequiredConfirmations)
{
    public (string Txid, int OutputIndex) Output => (Txid, OutputIndex);
}

/// <summary>A block of the node's active chain with the payments to our addresses it carries.</summary>
public sealed record ObservedBlock(long Height, string Hash, string PreviousHash, IReadOnlyList<ObservedPayment> Payments);

/// <summary>
/// What a reader saw outside any turn: built on the watcher's cursor (<see cref="CursorHeight"/>, <see cref="CursorHash"/>),
/// the last block both the watcher and the node agree on (the fork point; the cursor itself when nothing was reorganised),
/// the node's blocks after it, and our payments in the mempool (null for chains whose mempool is not watched).
/// </summary>
public sealed record ChainBatch(
    long CursorHeight,
    string? CursorHash,
    long ForkHeight,
    string? ForkHash,
    IReadOnlyList<ObservedBlock> Blocks,
    IReadOnlyList<ObservedPayment>? Mempool,
    int ReorgDepth,
    bool EndsPoll);

public enum ChainBatchOutcome
{
    Recorded,

    /// <summary>The batch was read on a cursor that moved meanwhile (another poll recorded first): read again.</summary>
    Stale,
}

/// <summary>Where the watcher is: the tip it has processed and the recent block hashes it remembers to find a fork.</summary>
public sealed record ChainCursor(long Height, string? TipHash, IReadOnlyList<RememberedBlock> Recent);

public sealed record RememberedBlock(long Height, string Hash);

/// <summary>A payment the watcher still follows: its block may be reorganised away, or it needs more confirmations.</summary>
public sealed record WatchedPayment(Guid InvoiceId, string Txid, int OutputIndex, int RequiredConfirmations);

/// <summary>One recent block: its hash, and only our payments in it (most blocks carry none), so the state stays small.</summary>
public sealed record WatchedBlock
{
    public long Height { get; set; }

    public string Hash { get; set; } = "";

    public List<WatchedPayment> Payments { get; set; } = [];
}

public sealed record ChainWatcherState
{
    /// <summary>The last block processed; -1 before the first batch.</summary>
    public long Height { get; set; } = -1;

    /// <summary>The recent blocks, oldest first, up to the reorg depth (longer while a payment in them still needs confirmations).</summary>
    public List<WatchedBlock> Blocks { get; set; } = [];

    /// <summary>Our payments seen in the mempool and in no block yet.</summary>
    public List<WatchedPayment> Mempool { get; set; } = [];

    public TimeSpan PollInterval { get; set; }

    /// <summary>A poll was started until then (by a reminder tick); ticks meanwhile do not start a second one.</summary>
    public DateTimeOffset? PollClaimedUntil { get; set; }

    public long BatchesRecorded { get; set; }

    public long PaymentsSeen { get; set; }

    public long PaymentsReorged { get; set; }

    public string? TipHash => Blocks.Count == 0 ? null : Blocks[^1].Hash;
}

/// <summary>
/// The chain watcher of one network (key: the network id). A periodic reminder asks the silo's
/// <see cref="ChainWatchSignals"/> to poll; the poll reads the node outside any turn and records what it saw with
/// <see cref="Record"/>, a short turn that checks the batch continues the chain it remembers and tells invoices by
/// exactly-once messages: new payments, confirmations, and payments whose block was reorganised away.
/// </summary>
[GrainType("chain-watcher")]
public interface IChainWatcherGrain : IGrainWithStringKey
{
    /// <summary>Starts (or re-times) the periodic poll reminder.</summary>
    Task Start(TimeSpan pollInterval);

    Task Stop();

    Task<ChainCursor> GetCursor();

    /// <summary>Records a batch read on the current cursor; a batch read on an older cursor is refused as <see cref="ChainBatchOutcome.Stale"/>.</summary>
    /// <exception cref="ChainContinuityException">The batch does not continue the remembered chain (a reorganisation deeper than the remembered blocks, or a reader bug).</exception>
    Task<ChainBatchOutcome> Record(ChainBatch batch);

    /// <summary>Ends a poll that failed before its last batch, so the next tick may start another at once.</summary>
    Task ReleasePoll();

    Task<ChainWatcherState> Get();
}

/// <summary>A batch that cannot follow the remembered chain; the message says why.</summary>
public sealed class ChainContinuityException(string message) : Exception(message);

public sealed class ChainWatcherGrain(ChainWatchSignals? signals = null) : Grain<ChainWatcherState>, IChainWatcherGrain, IRemindable
{
    public const string PollReminder = "poll";

    /// <summary>
    /// How long a started poll keeps later ticks from starting another, at least: a lease, renewed by each batch it records
    /// and released when the poll ends. Short, because a silo that dies mid-poll holds it until it runs out, and meanwhile
    /// no silo reads the chain; a second poll beside a slow one is harmless (its batches are refused as stale).
    /// </summary>
    public static readonly TimeSpan MinimumPollClaim = TimeSpan.FromSeconds(10);

    public Task Start(TimeSpan pollInterval)
    {
        if (pollInterval < TimeSpan.FromMilliseconds(100))
        {
            throw new ArgumentOutOfRangeException(nameof(pollInterval), pollInterval, "A chain poll interval must be at least 100 ms.");
        }

        if (State.PollInterval != pollInterval)
        {
            State.PollInterval = pollInterval;
            RegisterOrUpdateReminder(PollReminder, pollInterval, pollInterval);
        }

        return Task.CompletedTask;
    }

    public Task Stop()
    {
        State.PollInterval = TimeSpan.Zero;
        UnregisterReminder(PollReminder);
        return Task.CompletedTask;
    }

    private TimeSpan PollClaim => State.PollInterval * 5 > MinimumPollClaim ? State.PollInterval * 5 : MinimumPollClaim;

    public Task<ChainCursor> GetCursor() =>
        Task.FromResult(new ChainCursor(State.Height, State.TipHash, [.. State.Blocks.Select(b => new RememberedBlock(b.Height, b.Hash))]));

    public Task<ChainWatcherState> Get() => Task.FromResult(State);

    public Task ReleasePoll()
    {
        State.PollClaimedUntil = null;
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, ReminderTick tick)
    {
        // A silo that cannot poll (no watchers role) lets the tick pass rather than claim a poll nobody runs.
        if (reminderName != PollReminder || State.PollClaimedUntil > Now || signals?.CanPoll != true)
        {
            return Task.CompletedTask;
        }

        State.PollClaimedUntil = Now + PollClaim;
        var network = GetPrimaryKeyString();
        AfterCommit(() => signals?.RequestPoll(network));
        return Task.CompletedTask;
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
                await Send<IInvoiceGrain>(payment.InvoiceId).UpdateConfirmations(payment.Txid, payment.OutputIndex, 0);
                State.Mempool.Add(payment);
            }
            else
            {
                await Send<IInvoiceGrain>(payment.InvoiceId).RemovePayment(payment.Txid, payment.OutputIndex);
            }
        }

        // Confirmations of payments in blocks that stay, while they are below what their invoice requires.
        foreach (var block in State.Blocks)
        {
            var before = (int)(oldTip - block.Height + 1);
            var now = (int)(newTip - block.Height + 1);
            foreach (var payment in block.Payments.Where(p => now != before && (before < p.RequiredConfirmations || now < p.RequiredConfirmations)))
            {
                await Send<IInvoiceGrain>(payment.InvoiceId).UpdateConfirmations(payment.Txid, payment.OutputIndex, now);
            }
        }

        foreach (var block in batch.Blocks)
        {
            var confirmations = (int)(newTip - block.Height + 1);
            foreach (var payment in block.Payments)
            {
                await Send<IInvoiceGrain>(payment.InvoiceId).RecordPayment(
                    new PaymentObservation(payment.Address, payment.Txid, payment.OutputIndex, payment.AmountUnits, confirmations));
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
            await RecordMempool(inMempool, inNewBlocks);
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

        return ChainBatchOutcome.Recorded;
    }

    /// <summary>New mempool payments count with 0 confirmations; followed ones that left the mempool without a block are gone (replaced or evicted).</summary>
    private async Task RecordMempool(Dictionary<(string, int), ObservedPayment> inMempool, HashSet<(string, int)> inNewBlocks)
    {
        var inBlocks = State.Blocks.SelectMany(b => b.Payments).Select(p => (p.Txid, p.OutputIndex)).ToHashSet();
        foreach (var vanished in State.Mempool.Where(p => !inMempool.ContainsKey((p.Txid, p.OutputIndex))).ToList())
        {
            await Send<IInvoiceGrain>(vanished.InvoiceId).RemovePayment(vanished.Txid, vanished.OutputIndex);
            State.Mempool.Remove(vanished);
        }

        var followed = State.Mempool.Select(p => (p.Txid, p.OutputIndex)).ToHashSet();
        foreach (var (output, payment) in inMempool)
        {
            if (followed.Contains(output) || inNewBlocks.Contains(output) || inBlocks.Contains(output))
            {
                continue;
            }

            await Send<IInvoiceGrain>(payment.InvoiceId).RecordPayment(
                new PaymentObservation(payment.Address, payment.Txid, payment.OutputIndex, payment.AmountUnits, 0));
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
                throw new ChainContinuityException($"Batch for {GetPrimaryKeyString()} starts after block {batch.ForkHeight}, beyond the watcher's tip {State.Height}.");
            }

            var fork = State.Blocks.Find(b => b.Height == batch.ForkHeight);
            if (fork is null || fork.Hash != batch.ForkHash)
            {
                throw new ChainContinuityException(
                    $"Batch for {GetPrimaryKeyString()} forks at block {batch.ForkHeight} ({batch.ForkHash}), which the watcher does not remember " +
                    $"(it remembers {State.Blocks.FirstOrDefault()?.Height}..{State.Height}): a reorganisation deeper than the reorg depth needs an operator.");
            }
        }

        var previous = batch.ForkHash;
        var height = batch.ForkHeight;
        foreach (var block in batch.Blocks)
        {
            if (block.Height != ++height || (previous is not null && block.PreviousHash != previous))
            {
                throw new ChainContinuityException($"Block {block.Height} ({block.Hash}) of the batch for {GetPrimaryKeyString()} does not follow block {height - 1} ({previous}).");
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
