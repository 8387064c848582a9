using System.Collections.Concurrent;
using Orleans;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CryptoPay.Grains.Deposits;

/// <summary>One network a silo watches: its settings and its node reader.</summary>
public sealed record ChainWatch(string Network, ChainNetworkOptions Options, IChainReader Reader);

/// <summary>Counters of the watchers for health pages, metrics and tests.</summary>
public sealed class ChainWatchMetrics
{
    private readonly ConcurrentDictionary<string, long> lag = new(StringComparer.Ordinal);
    private long polls;
    private long pollFailures;
    private long staleBatches;
    private long wrongAssetOutputs;

    public long Polls => Interlocked.Read(ref polls);

    public long PollFailures => Interlocked.Read(ref pollFailures);

    /// <summary>Batches refused because another poll recorded first (read again, never double-counted).</summary>
    public long StaleBatches => Interlocked.Read(ref staleBatches);

    /// <summary>Outputs to our addresses in an asset other than the one the address was given for (not credited).</summary>
    public long WrongAssetOutputs => Interlocked.Read(ref wrongAssetOutputs);

    /// <summary>Blocks between the node's tip and the watcher's cursor after this silo's last poll, per network polled.</summary>
    public IReadOnlyDictionary<string, long> BlocksBehind => lag;

    internal void Polled(string network, long blocksBehind)
    {
        Interlocked.Increment(ref polls);
        lag[network] = blocksBehind;
    }

    internal void PollFailed() => Interlocked.Increment(ref pollFailures);

    internal void Stale() => Interlocked.Increment(ref staleBatches);

    internal void WrongAsset(int count) => Interlocked.Add(ref wrongAssetOutputs, count);
}

/// <summary>
/// Reads the nodes for the chain watcher grains, outside any turn: the watcher's cursor, the mempool, the node's
/// blocks after the last block both agree on, which outputs pay our addresses (one directory query per batch), then a
/// short <see cref="IChainWatcherGrain.Record"/> turn. One poll per network at a time in this silo; across silos the
/// watcher's poll claim and its cursor check keep a second poll harmless.
/// </summary>
public sealed class ChainWatchRunner
{
    /// <summary>Blocks recorded per turn: bounds a batch when a watcher catches up.</summary>
    public const int MaxBlocksPerBatch = 50;

    private const int MaxStaleRetries = 3;

    private readonly IGrainFactory grains;
    private readonly IDepositAddressDirectory directory;
    private readonly ILogger logger;
    private readonly Dictionary<string, ChainWatch> watches;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> background = new(StringComparer.Ordinal);

    public ChainWatchRunner(IGrainFactory grains, IDepositAddressDirectory directory, IEnumerable<ChainWatch> watches, ChainWatchSignals? signals = null, ILogger<ChainWatchRunner>? logger = null)
    {
        this.grains = grains;
        this.directory = directory;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
        this.watches = watches.ToDictionary(w => w.Network, StringComparer.Ordinal);
        signals?.Subscribe(Trigger);
    }

    public ChainWatchMetrics Metrics { get; } = new();

    public IReadOnlyCollection<string> Networks => watches.Keys;

    /// <summary>Starts the poll reminders of every watched network.</summary>
    public async Task StartAsync()
    {
        foreach (var watch in watches.Values)
        {
            await grains.GetGrain<IChainWatcherGrain>(watch.Network).Start(watch.Options.PollInterval);
        }
    }

    /// <summary>A reminder asked for a poll: run it in the background unless this silo is polling that network already.</summary>
    public void Trigger(string network)
    {
        if (!watches.ContainsKey(network))
        {
            return;
        }

        background[network] = Task.Run(async () =>
        {
            try
            {
                await PollAsync(network, CancellationToken.None);
            }
            catch (Exception error)
            {
                logger.LogWarning(error, "Polling {Network} failed; the next tick retries.", network);
            }
        });
    }

    /// <summary>Waits for the polls reminders started (tests).</summary>
    public Task WhenBackgroundPollsDoneAsync() => Task.WhenAll(background.Values);

    /// <summary>
    /// Reads the node up to its tip and records what it saw; returns the number of batches recorded (0 when another
    /// poll of this network was running in this silo).
    /// </summary>
    public async Task<int> PollAsync(string network, CancellationToken ct = default)
    {
        var watch = watches.GetValueOrDefault(network) ?? throw new ArgumentException($"Network {network} is not watched by this silo.", nameof(network));
        var gate = running.GetOrAdd(network, _ => new SemaphoreSlim(1, 1));
        if (!await gate.WaitAsync(0, ct))
        {
            return 0;
        }

        var watcher = grains.GetGrain<IChainWatcherGrain>(network);
        try
        {
            var recorded = 0;
            var stale = 0;
            while (true)
            {
                var (batch, tip) = await ReadBatchAsync(watch, await watcher.GetCursor(), ct);
                var outcome = await watcher.Record(batch);
                if (outcome == ChainBatchOutcome.Stale)
                {
                    Metrics.Stale();
                    if (++stale > MaxStaleRetries)
                    {
                        return recorded;
                    }

                    continue;
                }

                recorded++;
                var height = batch.Blocks.Count > 0 ? batch.Blocks[^1].Height : batch.ForkHeight;
                if (batch.EndsPoll)
                {
                    Metrics.Polled(network, Math.Max(0, tip - height));
                    return recorded;
                }
            }
        }
        catch
        {
            Metrics.PollFailed();
            await watcher.ReleasePoll();
            throw;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<(ChainBatch Batch, long Tip)> ReadBatchAsync(ChainWatch watch, ChainCursor cursor, CancellationToken ct)
    {
        var reader = watch.Reader;
        // The mempool first: a transaction mined after this read is in the blocks read next, so none falls in between.
        var mempool = await reader.ReadMempoolAsync(ct);
        var tip = await reader.GetTipAsync(ct);

        long forkHeight;
        string? forkHash;
        if (cursor.Height < 0)
        {
            var start = watch.Options.StartHeight ?? tip;
            forkHeight = start - 1;
            forkHash = forkHeight >= 0 ? await reader.GetBlockHashAsync(forkHeight, ct) : null;
        }
        else
        {
            (forkHeight, forkHash) = await FindForkAsync(reader, cursor, tip, ct);
        }

        var last = Math.Min(tip, forkHeight + MaxBlocksPerBatch);
        var blocks = last > forkHeight ? await reader.ReadBlocksAsync(forkHeight + 1, last, ct) : [];
        if (blocks.Count > 0 && forkHash is not null && blocks[0].PreviousHash != forkHash)
        {
            throw new ChainReadRaceException($"Block {forkHeight + 1} of {watch.Network} no longer follows block {forkHeight}.");
        }

        var outputs = blocks.SelectMany(b => b.Outputs).Concat(mempool ?? []).ToList();
        var ours = await MatchAsync(watch, outputs, ct);
        var observedBlocks = blocks
            .Select(b => new ObservedBlock(b.Height, b.Hash, b.PreviousHash, [.. b.Outputs.Select(o => ours.GetValueOrDefault(o)).OfType<ObservedPayment>()]))
            .ToList();
        var observedMempool = mempool?.Select(o => ours.GetValueOrDefault(o)).OfType<ObservedPayment>().ToList();
        var batch = new ChainBatch(cursor.Height, cursor.TipHash, forkHeight, forkHash, observedBlocks, observedMempool, watch.Options.ReorgDepth, EndsPoll: last >= tip);
        return (batch, tip);
    }

    /// <summary>The highest remembered block the node still has at its height: the cursor itself unless a reorganisation replaced blocks.</summary>
    private static async Task<(long Height, string Hash)> FindForkAsync(IChainReader reader, ChainCursor cursor, long tip, CancellationToken ct)
    {
        foreach (var remembered in cursor.Recent.OrderByDescending(b => b.Height))
        {
            if (remembered.Height <= tip && await reader.GetBlockHashAsync(remembered.Height, ct) == remembered.Hash)
            {
                return (remembered.Height, remembered.Hash);
            }
        }

        throw new ChainContinuityException(
            $"None of the {cursor.Recent.Count} remembered blocks up to {cursor.Height} is on the node's chain any more: a reorganisation deeper than the reorg depth needs an operator.");
    }

    /// <summary>Which outputs pay our addresses in the asset each address was given for (one directory query).</summary>
    private async Task<Dictionary<ChainOutput, ObservedPayment>> MatchAsync(ChainWatch watch, List<ChainOutput> outputs, CancellationToken ct)
    {
        var matched = new Dictionary<ChainOutput, ObservedPayment>();
        if (outputs.Count == 0)
        {
            return matched;
        }

        var assignments = (await directory.FindAsync(watch.Network, [.. outputs.Select(o => o.Address).Distinct(StringComparer.Ordinal)], ct))
            .ToDictionary(a => DepositAddressKeys.Of(a.Network, a.Address), StringComparer.Ordinal);
        var candidates = new List<(ChainOutput Output, DepositAddressState Assignment)>();
        var wrongAsset = 0;
        foreach (var output in outputs.Distinct())
        {
            if (!assignments.TryGetValue(DepositAddressKeys.Of(watch.Network, output.Address), out var assignment))
            {
                continue;
            }

            if (!string.Equals(assignment.Asset, output.Asset, StringComparison.OrdinalIgnoreCase))
            {
                wrongAsset++;
                logger.LogWarning(
                    "{Network} output {Txid}:{Index} pays {Amount} {Asset} to {Address}, which was given for {Expected} (invoice {Invoice}); not credited.",
                    watch.Network, output.Txid, output.OutputIndex, output.AmountUnits, output.Asset, assignment.Address, assignment.Asset, assignment.InvoiceId);
                continue;
            }

            candidates.Add((output, assignment));
        }

        Metrics.WrongAsset(wrongAsset);
        var succeeded = (await watch.Reader.KeepSucceededAsync([.. candidates.Select(c => c.Output)], ct)).ToHashSet();
        foreach (var (output, assignment) in candidates.Where(c => succeeded.Contains(c.Output)))
        {
            matched[output] = new ObservedPayment(assignment.InvoiceId, assignment.Address, output.Txid, output.OutputIndex, output.AmountUnits, assignment.RequiredConfirmations);
        }

        return matched;
    }
}
