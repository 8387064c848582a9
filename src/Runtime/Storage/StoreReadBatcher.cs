using CryptoPay.Runtime.Grains;
using CryptoPay.Runtime.Hosting;

namespace CryptoPay.Runtime.Storage;

/// <summary>
/// Gathers the grain reads of a silo's activations (loads and version checks) into batched store
/// calls: while <see cref="MaxInFlight"/> reads are on their way, the reads that arrive meanwhile
/// wait and go together in the next call. An idle silo reads at once, as before; a busy one pays one
/// round trip for many reads instead of one each (hundreds of status polls or message targets a second).
/// </summary>
internal sealed class StoreReadBatcher(IGrainStore store, SiloMetrics metrics)
{
    public const int MaxInFlight = 2;
    public const int MaxBatch = 256;

    private readonly Lock gate = new();
    private List<PendingRead> waiting = [];
    private int inFlight;

    public Task<StoredGrain> ReadAsync(GrainId grain, long knownVersion)
    {
        metrics.GrainRead();
        var read = new PendingRead(new GrainRead(grain, knownVersion));
        bool start;
        lock (gate)
        {
            waiting.Add(read);
            start = inFlight < MaxInFlight;
            if (start)
            {
                inFlight++;
            }
        }

        if (start)
        {
            _ = RunAsync();
        }

        return read.Completion.Task;
    }

    private async Task RunAsync()
    {
        while (true)
        {
            List<PendingRead> batch;
            lock (gate)
            {
                if (waiting.Count == 0)
                {
                    inFlight--;
                    return;
                }

                if (waiting.Count <= MaxBatch)
                {
                    batch = waiting;
                    waiting = [];
                }
                else
                {
                    batch = waiting.GetRange(0, MaxBatch);
                    waiting.RemoveRange(0, MaxBatch);
                }
            }

            try
            {
                IReadOnlyList<StoredGrain> results = batch.Count == 1
                    ? [await store.ReadAsync(batch[0].Read.Grain, batch[0].Read.KnownVersion, CancellationToken.None).ConfigureAwait(false)]
                    : await store.ReadManyAsync(batch.ConvertAll(r => r.Read), CancellationToken.None).ConfigureAwait(false);
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Completion.TrySetResult(results[i]);
                }
            }
            catch (Exception ex)
            {
                // Each reader decides for itself whether to retry (transient) or fail its turn.
                foreach (var read in batch)
                {
                    read.Completion.TrySetException(ex);
                }
            }
        }
    }

    private sealed class PendingRead(GrainRead read)
    {
        public GrainRead Read { get; } = read;

        public TaskCompletionSource<StoredGrain> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
