using System.Collections.Concurrent;
using CryptoPay.Chains.Hd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CryptoPay.Grains.Deposits;

/// <summary>
/// Receive addresses derived ahead of the address pools' cursors, per silo, so allocating an address is a
/// dictionary look-up, not elliptic-curve math. Addresses are a pure function of (account key, index), so the
/// cache needs no persistence and can never be stale: after a restart it refills from the pool's durable cursor.
/// Refills run on the thread pool, outside every turn; one at a time per account key.
/// </summary>
public sealed class DerivedAddressCache(ILogger<DerivedAddressCache>? logger = null)
{
    private readonly ConcurrentDictionary<string, Window> windows = new(StringComparer.Ordinal);
    private readonly ILogger logger = (ILogger?)logger ?? NullLogger.Instance;
    private long hits;
    private long synchronousDerivations;
    private long backgroundDerivations;

    /// <summary>Allocations served from addresses derived ahead.</summary>
    public long Hits => Interlocked.Read(ref hits);

    /// <summary>Allocations that found nothing derived ahead (a burst, or the first after a start) and derived on the spot.</summary>
    public long SynchronousDerivations => Interlocked.Read(ref synchronousDerivations);

    /// <summary>Addresses derived ahead by refills.</summary>
    public long BackgroundDerivations => Interlocked.Read(ref backgroundDerivations);

    /// <summary>
    /// The receive address at <paramref name="index"/>, or null when BIP32 declares that index invalid (skip it).
    /// Derives on the spot, counted in <see cref="SynchronousDerivations"/>, when no refill got there first.
    /// </summary>
    public string? Get(LiveNetwork network, uint index)
    {
        ArgumentNullException.ThrowIfNull(network);
        var window = WindowOf(network);
        if (window.Addresses.TryGetValue(index, out var ahead))
        {
            Interlocked.Increment(ref hits);
            return ahead.Length == 0 ? null : ahead;
        }

        Interlocked.Increment(ref synchronousDerivations);
        logger.LogInformation("Address pool {Network}: index {Index} was not derived ahead; deriving it on the allocation path", network.Id, index);
        return Derive(network.Deriver, index);
    }

    /// <summary>
    /// Makes sure indexes [<paramref name="next"/>, next + lookahead) get derived, in the background, and forgets
    /// those more than a lookahead below <paramref name="next"/> (handed out; a pool's cursor never goes back, but a
    /// turn that ran on stale state looks its index up once more before it replays). Returns at once.
    /// </summary>
    public void EnsureAhead(LiveNetwork network, uint next)
    {
        ArgumentNullException.ThrowIfNull(network);
        var window = WindowOf(network);
        window.RaiseFloor(next, (uint)network.Options.AddressLookahead);
        var target = (uint)Math.Min((long)next + network.Options.AddressLookahead, Bip32.HardenedOffset);
        if (window.DerivedThrough >= target || Interlocked.CompareExchange(ref window.Refilling, 1, 0) != 0)
        {
            return;
        }

        var refill = new Task(() => Refill(network, window, target));
        Volatile.Write(ref window.Running, refill);
        refill.Start(TaskScheduler.Default);
    }

    /// <summary>Completes when no refill is running (tests and benchmarks): awaits the refills themselves.</summary>
    public async Task WhenRefilledAsync(CancellationToken ct = default)
    {
        while (windows.Values.Any(w => Volatile.Read(ref w.Refilling) != 0))
        {
            // A refill that claimed its window a moment ago publishes its task right after; until then, yield.
            await Task.WhenAll(windows.Values.Select(w => Volatile.Read(ref w.Running))).WaitAsync(ct).ConfigureAwait(false);
            await Task.Yield();
        }
    }

    private void Refill(LiveNetwork network, Window window, uint target)
    {
        try
        {
            while (true)
            {
                for (var index = Math.Max(window.DerivedThrough, window.Floor); index < target; index = Math.Max(index + 1, window.Floor))
                {
                    window.Addresses.TryAdd(index, Derive(network.Deriver, index) ?? "");
                    window.DerivedThrough = index + 1;
                    Interlocked.Increment(ref backgroundDerivations);
                }

                Volatile.Write(ref window.Refilling, 0);
                var wanted = (uint)Math.Min((long)window.Floor + network.Options.AddressLookahead, Bip32.HardenedOffset);
                if (window.DerivedThrough >= wanted || Interlocked.CompareExchange(ref window.Refilling, 1, 0) != 0)
                {
                    return;
                }

                target = wanted;
            }
        }
        catch (Exception error)
        {
            Volatile.Write(ref window.Refilling, 0);
            logger.LogError(error, "Address pool {Network}: deriving addresses ahead failed; allocations derive on the spot", network.Id);
        }
    }

    private static string? Derive(AddressDeriver deriver, uint index)
    {
        try
        {
            return deriver.DeriveReceiveAddress(index);
        }
        catch (InvalidChildKeyException)
        {
            return null;
        }
    }

    private Window WindowOf(LiveNetwork network) => windows.GetOrAdd($"{network.Id}/{network.AccountKeyId}", _ => new Window());

    private sealed class Window
    {
        private uint floor;
        private uint derivedThrough;

        public readonly ConcurrentDictionary<uint, string> Addresses = new();

        public int Refilling;

        /// <summary>The latest refill (completed when none ran yet).</summary>
        public Task Running = Task.CompletedTask;

        public uint Floor => Volatile.Read(ref floor);

        /// <summary>Indexes below this are derived (or were handed out).</summary>
        public uint DerivedThrough
        {
            get => Volatile.Read(ref derivedThrough);
            set => Volatile.Write(ref derivedThrough, value);
        }

        public void RaiseFloor(uint next, uint keepBehind)
        {
            uint seen;
            while (next > (seen = Volatile.Read(ref floor)))
            {
                if (Interlocked.CompareExchange(ref floor, next, seen) == seen)
                {
                    // Usually one index was handed out; after a jump (another silo allocated many) sweep the keys instead.
                    var from = seen > keepBehind ? seen - keepBehind : 0;
                    var to = next > keepBehind ? next - keepBehind : 0;
                    var stale = to - from <= 64 ? Enumerable.Range(0, (int)(to - from)).Select(i => from + (uint)i) : Addresses.Keys.Where(i => i < to);
                    foreach (var index in stale.ToList())
                    {
                        Addresses.TryRemove(index, out _);
                    }

                    return;
                }
            }
        }
    }
}
