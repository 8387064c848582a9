using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Runtime;

namespace CryptoPay.Api.Bench;

/// <summary>
/// Garbage collections of this process (gateway and callers) since the previous figure: their pauses (they show in p99),
/// the collections by generation and reason (the runtime's GCStart events), the time the JIT spent compiling (a gateway
/// not yet at its steady state), and on request what it allocates most
/// (sampled GCAllocationTick events, one per ~100 KB allocated). The sampling costs the gateway's CPU it measures
/// (~2% of the creation profile: an event to dispatch and count every 100 KB), so it is off unless asked for.
/// </summary>
internal sealed class GcWindow(bool sampleAllocations) : EventListener
{
    private static readonly string[] Reasons = ["alloc_small", "induced", "low_memory", "empty", "alloc_large", "oos_soh", "oos_loh", "induced_not_forced", "internal", "induced_low_memory", "induced_compacting", "lowmemory_host", "pm_full_gc", "lowmemory_host_blocking"];
    private readonly ConcurrentDictionary<string, int> collections = new();
    private readonly ConcurrentDictionary<string, int> allocations = new();
    private TimeSpan paused = GC.GetTotalPauseDuration();
    private TimeSpan jitted = JitInfo.GetCompilationTime();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
        {
            // The GC keyword; verbose for the allocation ticks. (A primary constructor's captured parameter is set
            // before the base constructor announces the sources that exist already.)
            EnableEvents(source, sampleAllocations ? EventLevel.Verbose : EventLevel.Informational, (EventKeywords)0x1);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.Payload is not { } payload || e.PayloadNames is not { } names)
        {
            return;
        }

        if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) == true)
        {
            var large = Convert.ToInt32(payload[names.IndexOf("AllocationKind")]) == 1;
            allocations.AddOrUpdate($"{(large ? "LOH " : "")}{payload[names.IndexOf("TypeName")]}", 1, (_, n) => n + 1);
        }
        else if (e.EventName?.StartsWith("GCStart", StringComparison.Ordinal) == true)
        {
            var depth = Convert.ToInt32(payload[names.IndexOf("Depth")]);
            var reason = Convert.ToInt32(payload[names.IndexOf("Reason")]);
            var background = names.IndexOf("Type") is var t and >= 0 && Convert.ToInt32(payload[t]) == 1;
            collections.AddOrUpdate($"gen{depth} {(reason < Reasons.Length ? Reasons[reason] : reason.ToString())}{(background ? " (background)" : "")}", 1, (_, n) => n + 1);
        }
    }

    /// <summary>The pauses and collections since the last call, and the most sampled allocated types when sampling (a second line).</summary>
    public string Next()
    {
        var pause = GC.GetTotalPauseDuration();
        var jit = JitInfo.GetCompilationTime();
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var gcs = Drain(collections);
        var sampled = Drain(allocations);
        var byReason = string.Join(", ", gcs.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"));
        var text = string.Create(CultureInfo.InvariantCulture,
            $"gc since the last figure: paused {(pause - paused).TotalMilliseconds:F0} ms; last pause {info.PauseDurations[0].TotalMilliseconds:F1} ms; heap {info.HeapSizeBytes / 1048576.0:F0} MB ({(GCSettings.IsServerGC ? "server" : "workstation")} GC); collections: {byReason}; the JIT compiled for {(jit - jitted).TotalMilliseconds:F0} ms");
        if (sampleAllocations)
        {
            var total = Math.Max(1, sampled.Sum(p => p.Value));
            var mostAllocated = string.Join(", ", sampled.OrderByDescending(p => p.Value).Take(8)
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {100.0 * p.Value / total:F0}%")));
            text += $"\n{"",38} most allocated (sampled): {mostAllocated}";
        }

        paused = pause;
        jitted = jit;
        return text;
    }

    private static KeyValuePair<string, int>[] Drain(ConcurrentDictionary<string, int> counts)
    {
        var taken = counts.ToArray();
        foreach (var (key, value) in taken)
        {
            counts.AddOrUpdate(key, 0, (_, n) => n - value);
        }

        return [.. taken.Where(p => p.Value > 0)];
    }
}
